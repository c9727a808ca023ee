"""Who the city is: its code, names and the mayor whose seal certifies its documents."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["CityProfile"]


class CityProfile(BaseModel):
    """The facts a certificate prints about its issuer (認証文, 職名, 公印)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str  # 全国地方公共団体コード, 6 digits
    prefecture: str
    name: str  # 深谷市
    name_kana: str
    mayor_name: str
    office_address: str = ""

    @property
    def mayor_title(self) -> str:
        """職名 printed before the mayor's name: 深谷市長, 千代田区長, 〇〇町長."""
        suffix = self.name[-1]
        return f"{self.name}長" if suffix in "市区町村" else f"{self.name}の長"

    @property
    def full_name(self) -> str:
        return f"{self.prefecture}{self.name}"
