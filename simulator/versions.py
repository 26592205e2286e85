"""The Airflow releases whose REST API the simulator serves.

One engine and one store serve every version; what differs between them
lives in the version's spec (spec/v1-<version>.yaml), in the fields its
serializers add, in its access table and in its quirks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AirflowVersion:
    name: str  # "2.5.3"
    # The content of the release's airflow/git_version file (GET /version).
    git_version: str

    @property
    def number(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.name.split("."))

    def at_least(self, name: str) -> bool:
        return self.number >= tuple(int(part) for part in name.split("."))

    @property
    def docs(self) -> str:
        """The API reference that error `type` links point into."""
        return (
            f"https://airflow.apache.org/docs/apache-airflow/{self.name}/stable-rest-api-ref.html"
        )

    @property
    def spec_file(self) -> str:
        return f"v1-{self.name}.yaml"


V2_5 = AirflowVersion("2.5.3", ".release:2.5.3+cb842dd8aa8749b4d0a474c6e2fda11505d9ba99")
V2_10 = AirflowVersion("2.10.5", ".release:b93c3db6b1641b0840bd15ac7d05bc58ff2cccbf")
VERSIONS = {version.name: version for version in (V2_5, V2_10)}
DEFAULT_VERSION = V2_5.name


def airflow_version(name: str) -> AirflowVersion:
    try:
        return VERSIONS[name]
    except KeyError:
        known = " or ".join(VERSIONS)
        raise ValueError(f"unknown Airflow version {name!r}: {known}") from None
