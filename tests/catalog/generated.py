"""Synthetic catalog files in the shipped format, for size tests."""

import json
from pathlib import Path


def write_catalog(directory: Path, destinations: int, sources: int = 1) -> Path:
    def option(n):
        return {"name": f"key{n}", "type": "string", "required": False, "defaultValue": "",
                "label": f"Key {n}", "description": "", "secret": False}  # fmt: skip

    dests = [
        {"id": f"{i:024x}", "slug": f"tool-{i}", "name": f"Tool {i}", "description": "A tool.",
         "categories": ["Analytics" if i % 2 else "CRM"], "website": "https://example.com",
         "status": "PUBLIC", "previousNames": [], "kind": "destination", "connectionModes": ["cloud"],
         "components": [], "supportedMethods": {"track": True}, "supportedPlatforms": {"server": True},
         "supportedFeatures": {"cloudModeInstances": "MULTIPLE", "deviceModeInstances": "NONE"},
         "multiInstanceSourceKinds": ["web", "server", "mobile", "project"], "options": [option(1)]}
        for i in range(destinations)
    ]  # fmt: skip
    srcs = [
        {"id": f"{i + 10**6:024x}", "slug": f"lib-{i}", "name": f"Library {i}", "description": "",
         "categories": ["Server"], "kind": "server", "isCloudEventSource": False,
         "website": "https://example.com", "options": []}
        for i in range(sources)
    ]  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "destinations.json").write_text(json.dumps(dests))
    (directory / "sources.json").write_text(json.dumps(srcs))
    return directory
