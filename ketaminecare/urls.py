from django.contrib import admin
from django.urls import path

admin.site.site_header = "KetamineCare"
admin.site.site_title = "KetamineCare"
admin.site.index_title = "Clinic administration"

urlpatterns = [
    path("admin/", admin.site.urls),
]
