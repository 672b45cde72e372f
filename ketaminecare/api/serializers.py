"""Serializer building blocks every endpoint shares: strict input, aware datetimes, the error shape.

DRF drops keys it does not know and turns naive datetimes into aware ones in the server's zone;
both hide client mistakes. Here an unknown, read-only or role-forbidden key is refused with a
400 naming it, and a datetime without an offset is refused the same way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.db import models
from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from ketaminecare.rules import Rule

MSG_NAIVE = "Give the time with a UTC offset, for example 2031-06-02T09:00:00-04:00 or ...T13:00:00Z."
MSG_OUT_OF_RANGE = "The date is out of the supported range (years 1900 to 2999)."
MSG_UNKNOWN_FIELD = "This field is not part of the request."
MSG_READ_ONLY = "This field is read-only."
MSG_FORBIDDEN_FIELD = "Your role may not set this field."
# A "+" in a query string decodes to a space; "…T09:00:00 02:00" is read as "+02:00".
_SPACE_OFFSET = re.compile(r" (\d{2}:?\d{2})$")
# No clinic books outside these years; the bounds keep date arithmetic (a range plus a few days,
# a shift to UTC) from overflowing Python's datetime.
MIN_YEAR, MAX_YEAR = 1900, 2999


def in_supported_range(value: dt.date) -> bool:
    return MIN_YEAR <= value.year <= MAX_YEAR


class StrictInputMixin:
    """Refuse input keys the serializer does not take instead of silently dropping them.

    The view may pass ``context["forbidden_fields"]``: fields the caller's role may not set,
    refused on the top-level serializer with ``rule = "forbidden_field"``.
    """

    fields: Any
    context: Any
    root: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            forbidden = set(self.context.get("forbidden_fields", ())) if self.root is self else set()
            errors: dict[str, list[ErrorDetail]] = {}
            for key in data:
                field = self.fields.get(key)
                if key in forbidden:
                    errors[key] = [ErrorDetail(MSG_FORBIDDEN_FIELD, code=Rule.FORBIDDEN_FIELD)]
                elif field is None:
                    errors[str(key)] = [ErrorDetail(MSG_UNKNOWN_FIELD, code=Rule.UNKNOWN_FIELD)]
                elif field.read_only:
                    errors[key] = [ErrorDetail(MSG_READ_ONLY, code=Rule.READ_ONLY)]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its offset; answered in the clinic's zone."""

    default_error_messages = {"naive": MSG_NAIVE, "out_of_range": MSG_OUT_OF_RANGE}

    def to_internal_value(self, value: Any) -> dt.datetime:
        parsed: dt.datetime | None = None
        if isinstance(value, dt.datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
        if parsed is not None:
            if parsed.tzinfo is None or parsed.utcoffset() is None:
                self.fail("naive")
            if not in_supported_range(parsed):
                self.fail("out_of_range")
        return super().to_internal_value(value)


class BoundedDateField(serializers.DateField):
    """A calendar date within the years a clinic can book (1900 to 2999)."""

    default_error_messages = {"out_of_range": MSG_OUT_OF_RANGE}

    def to_internal_value(self, value: Any) -> dt.date:
        day = super().to_internal_value(value)
        if not in_supported_range(day):
            self.fail("out_of_range")
        return day


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
        "example": "09:00",
        "description": "A wall-clock time, HH:MM[:SS], with no offset.",
    }
)
class WallTimeField(serializers.TimeField):
    """A time of day on a wall clock (the clinic's or the patient's): no offset, by design.

    OpenAPI's "time" format is RFC 3339's full-time, which requires an offset; say what it is.
    """


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: AwareDateTimeField,
        models.DateField: BoundedDateField,
        models.TimeField: WallTimeField,
    }


class PreloadedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key resolved from objects its list loaded at once (``PreloadingListSerializer``):
    one query for all the rows of a list instead of one a row. Alone, it queries as its parent does;
    its errors are the parent's, word for word."""

    preloaded: dict[int, Any] | None = None

    def to_internal_value(self, data: Any) -> Any:
        if self.preloaded is None:
            return super().to_internal_value(data)
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            key = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if key not in self.preloaded:
            self.fail("does_not_exist", pk_value=data)
        return self.preloaded[key]


class PreloadingListSerializer(serializers.ListSerializer):
    """A list whose ``PreloadedPrimaryKeyRelatedField`` children load every object the list names
    in one query per field, before the rows are validated."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, list):
            for name, field in self.child.fields.items():  # type: ignore[union-attr]
                if isinstance(field, PreloadedPrimaryKeyRelatedField):
                    keys = {_int_or_none(row.get(name)) for row in data if isinstance(row, Mapping)} - {None}
                    queryset = field.get_queryset()
                    assert queryset is not None  # the field is declared with a queryset
                    field.preloaded = {obj.pk: obj for obj in queryset.filter(pk__in=keys)}
        return super().to_internal_value(data)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ErrorSerializer(serializers.Serializer):
    """Every 4xx answer: a stable code, a sentence, and the field or rule at fault."""

    code = serializers.CharField(help_text="Machine-readable and stable, e.g. invalid_input, booking_conflict.")
    message = serializers.CharField()
    field = serializers.CharField(required=False, help_text="The input field at fault (dotted path).")
    rule = serializers.CharField(required=False, help_text="The rule refused, e.g. min_gap, unknown_field.")
    details = serializers.DictField(required=False, help_text="Further facts: problems, next feasible date, …")


# ---------------------------------------------------------------------------------------------
# Query parameters


class AwareDateTimeFormField(forms.Field):
    """A query-string datetime that must carry its offset."""

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            parsed: dt.datetime | None = value
        else:
            text = _SPACE_OFFSET.sub(r"+\1", str(value).strip())
            try:
                parsed = parse_datetime(text)
            except ValueError:
                parsed = None
        if parsed is None:
            raise forms.ValidationError("Enter an ISO 8601 date and time with a UTC offset.", code=Rule.INVALID)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise forms.ValidationError(MSG_NAIVE, code=Rule.NAIVE_DATETIME)
        if not in_supported_range(parsed):
            raise forms.ValidationError(MSG_OUT_OF_RANGE, code=Rule.OUT_OF_RANGE)
        return parsed


class BoundedDateFormField(forms.DateField):
    def to_python(self, value: Any) -> dt.date | None:
        day = super().to_python(value)
        if day is not None and not in_supported_range(day):
            raise forms.ValidationError(MSG_OUT_OF_RANGE, code=Rule.OUT_OF_RANGE)
        return day


@extend_schema_field(OpenApiTypes.DATE)
class BoundedDateFilter(filters.Filter):
    field_class = BoundedDateFormField


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeFilter(filters.Filter):
    field_class = AwareDateTimeFormField


class IdFormField(forms.IntegerField):
    """An object id in a query string: a positive integer that fits the database's bigint."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.Filter):
    field_class = IdFormField


class StrictBooleanFormField(forms.Field):
    """true/false (or 1/0) in a query string; anything else is an error, not "no filter"."""

    TRUE, FALSE = {"true", "1"}, {"false", "0"}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Give true or false.", code=Rule.INVALID)


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.Filter):
    field_class = StrictBooleanFormField


@extend_schema_field(OpenApiTypes.INT)
class IntFilter(filters.Filter):
    field_class = forms.IntegerField


class RangeFilterSet(filters.FilterSet):
    """A filter set with an optional ``start``/``end`` range: ordered and bounded."""

    max_range_days = 366
    range_required = False

    start = AwareDateTimeFilter(method="filter_noop", help_text="Range start, ISO 8601 with offset.")
    end = AwareDateTimeFilter(method="filter_noop", help_text="Range end, ISO 8601 with offset.")

    # The schema reads the type of the ``value`` argument, so it keeps its name though unused.
    def filter_noop(self, queryset: Any, _name: str, value: Any) -> Any:  # noqa: ARG002
        # The range is applied in filter_range, once both bounds are known.
        return queryset

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if not valid:
            return False
        start = self.form.cleaned_data.get("start")
        end = self.form.cleaned_data.get("end")
        if self.range_required and (start is None or end is None):
            self.form.add_error(
                "start" if start is None else "end",
                forms.ValidationError("Give both start and end.", code=Rule.RANGE_REQUIRED),
            )
            return False
        if start is not None and end is not None:
            if end <= start:
                self.form.add_error(
                    "end", forms.ValidationError("The range ends before it starts.", code=Rule.RANGE_INVERTED)
                )
                return False
            if end - start > dt.timedelta(days=self.max_range_days):
                self.form.add_error(
                    "end",
                    forms.ValidationError(
                        f"The range spans at most {self.max_range_days} days.", code=Rule.RANGE_TOO_LONG
                    ),
                )
                return False
        return True

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        return self.filter_range(queryset, self.form.cleaned_data.get("start"), self.form.cleaned_data.get("end"))

    def filter_range(self, queryset: Any, start: dt.datetime | None, end: dt.datetime | None) -> Any:
        if start is not None:
            queryset = queryset.filter(ends_at__gt=start)
        if end is not None:
            queryset = queryset.filter(starts_at__lt=end)
        return queryset
