"""A broken rule, as the person sees it: which rule, which step, and what is wrong."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    rule: str
    title: str
    step: str | None
    message: str

    def one_line(self) -> str:
        where = f"step {self.step}" if self.step else "routine"
        return f"{self.rule} ({self.title}) in {where}: {self.message}"
