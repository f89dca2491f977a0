"""Catalog entries in the Public API's shapes (DestinationMetadataV1, SourceMetadataV1,
WarehouseMetadataV1 of ``@segment/public-api-sdk-typescript``)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# IntegrationOptionBeta's fields; our own extras (secret, choices) stay inside Segapp.
OPTION_FIELDS = ("name", "type", "required", "description", "defaultValue", "label")


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            "default": {"type": "string"},
            "mark": {"type": "string"},
            "alt": {"type": "string", "nullable": True},
        },
        "required": ["default"],
    }
)
class LogosField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="slug", read_only=True, **kwargs)

    def to_representation(self, slug):
        request = self.context.get("request")
        path = reverse("catalog:logo", args=[slug])
        url = request.build_absolute_uri(path) if request else path
        return {"default": url, "mark": url, "alt": None}


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "type": {"type": "string"},
                "required": {"type": "boolean"},
                "description": {"type": "string"},
                "defaultValue": {},
                "label": {"type": "string"},
            },
            "required": ["name", "type", "required"],
        },
    }
)
class OptionsField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, options):
        return [{key: option[key] for key in OPTION_FIELDS if key in option} for option in options]


class WarehouseMetadataSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    logos = LogosField()
    options = OptionsField()


class SourceMetadataSerializer(WarehouseMetadataSerializer):
    categories = serializers.ListField(child=serializers.CharField())
    isCloudEventSource = serializers.BooleanField(source="is_cloud_event_source")


class DestinationMetadataSerializer(WarehouseMetadataSerializer):
    status = serializers.CharField()
    previousNames = serializers.ListField(source="previous_names", child=serializers.CharField())
    categories = serializers.ListField(child=serializers.CharField())
    website = serializers.CharField()
    components = serializers.JSONField()
    supportedFeatures = serializers.JSONField(source="supported_features")
    supportedMethods = serializers.JSONField(source="supported_methods")
    supportedPlatforms = serializers.JSONField(source="supported_platforms")
    actions = serializers.SerializerMethodField()
    presets = serializers.SerializerMethodField()

    def get_actions(self, obj) -> list:
        return []  # Actions mappings are not modelled: classic settings only

    def get_presets(self, obj) -> list:
        return []
