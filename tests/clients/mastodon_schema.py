"""Validates Petrel's responses against the Mastodon API's OpenAPI 3.1 description
(abraham/mastodon-openapi, MIT; copied here from ../shared/mastodon-openapi as test data)."""
import json
import pathlib

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_DOC = json.loads((pathlib.Path(__file__).parent / "mastodon-openapi.json").read_text())
_REGISTRY = Registry().with_resource("urn:mastodon", Resource.from_contents(_DOC, default_specification=DRAFT202012))


def check(entity, name):
    """Raises jsonschema.ValidationError unless `entity` is a valid `name` (e.g. "Status")."""
    schema = {"$ref": f"urn:mastodon#/components/schemas/{name}"}
    Draft202012Validator(schema, registry=_REGISTRY).validate(entity)
