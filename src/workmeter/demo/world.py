"""The demo world: customers, teams, workflows and the models they call.

Everything here is static, deterministic data. Model names are real ids from
the genai-prices catalog, except a few deliberate exceptions that show how
workmeter treats them: provider-prefixed names as a gateway sends them
(``openai/gpt-4o``) and custom models nobody publishes a price for (these
rate as ``unpriced``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Tiers in code order (``TIERS[code]``).
TIERS: tuple[str, ...] = ("standard", "batch", "flex", "priority")
#: Usage formats in code order; the last one is not a real format (bad events use it).
FORMATS: tuple[str, ...] = ("anthropic", "openai-chat", "openai-responses", "gemini", "otel", "buckets")
UNKNOWN_FORMAT = "tokens-v0"


@dataclass(frozen=True)
class Model:
    provider: str
    name: str
    formats: dict[str, float]  # usage format → share of calls
    reasoning: bool = False  # reports reasoning/thinking tokens separately
    long_context: bool = False  # accepts > 200k input tokens (long-context price tier)
    flex: bool = False  # OpenAI flex processing available
    cost_rank: int = 1  # 0 cheap … 3 frontier, for workflow preferences


_A = {"anthropic": 0.86, "otel": 0.09, "buckets": 0.05}
_O = {"openai-chat": 0.55, "openai-responses": 0.30, "otel": 0.10, "buckets": 0.05}
_OR = {"openai-chat": 0.25, "openai-responses": 0.60, "otel": 0.10, "buckets": 0.05}
_G = {"gemini": 0.88, "otel": 0.08, "buckets": 0.04}

MODELS: tuple[Model, ...] = (
    Model("anthropic", "claude-sonnet-4-5-20250929", _A, long_context=True, cost_rank=2),
    Model("anthropic", "claude-haiku-4-5-20251001", _A, cost_rank=1),
    Model("anthropic", "claude-3-5-haiku-20241022", _A, cost_rank=0),
    Model("anthropic", "claude-opus-4-1-20250805", _A, cost_rank=3),
    Model("anthropic", "claude-sonnet-4-20250514", _A, long_context=True, cost_rank=2),
    Model("openai", "gpt-4o-2024-08-06", _O, cost_rank=2),
    Model("openai", "gpt-4o-mini", _O, cost_rank=0),
    Model("openai", "gpt-4.1", _O, cost_rank=2),
    Model("openai", "o3", _OR, reasoning=True, flex=True, cost_rank=2),
    Model("openai", "o4-mini", _OR, reasoning=True, flex=True, cost_rank=1),
    Model("openai", "gpt-5", _OR, reasoning=True, flex=True, cost_rank=2),
    Model("openai", "gpt-5-mini", _OR, reasoning=True, flex=True, cost_rank=0),
    Model("google", "gemini-2.5-pro", _G, reasoning=True, long_context=True, cost_rank=2),
    Model("google", "gemini-2.5-flash", _G, reasoning=True, cost_rank=0),
    Model("google", "gemini-2.0-flash", _G, cost_rank=0),
    # as a gateway (LiteLLM, OpenRouter) names them: the catalog must strip the prefix
    Model("openai", "openai/gpt-4o", {"openai-chat": 1.0}, cost_rank=2),
    # custom models: no public price, so they rate as unpriced
    Model("internal", "acme-llama-3.1-70b-ft", {"openai-chat": 1.0}, cost_rank=1),
    Model("openai", "ft:gpt-4o-mini-2024-07-18:acme:triage:9x2k1", {"openai-chat": 1.0}, cost_rank=0),
)
MODEL_INDEX = {m.name: i for i, m in enumerate(MODELS)}
PROVIDERS: tuple[str, ...] = ("anthropic", "openai", "google", "internal")


@dataclass(frozen=True)
class Workflow:
    name: str
    team: str
    weight: float  # share of tasks
    status: tuple[float, float, float, float]  # completed, failed, abandoned (event), abandoned (silent)
    calls: float  # mean model calls per task (relative)
    minutes: float  # median task duration
    prompt: tuple[float, float]  # median input tokens, lognormal sigma
    output: tuple[float, float]  # median output tokens, lognormal sigma
    cached: float  # share of calls that read the prompt cache
    retry: float  # chance that a call repeats the previous prompt
    models: dict[str, float]  # model → preference
    outcome: str = ""  # outcome name of a completed task ("" = none)
    outcome_rate: float = 0.0
    values: tuple[str, ...] = ()  # outcome values (decimal strings, USD)
    confirmed: float = 1.0  # share of outcomes confirmed
    reopen: float = 0.0  # share of outcomes reopened later
    subtasks: float = 0.0  # share of tasks that are sub-tasks of another
    batch: float = 0.0  # share of calls sent through a batch API


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        "support-triage", "support", 0.42, (0.82, 0.08, 0.04, 0.06), 4, 3, (3000, 0.8), (350, 0.7), 0.6,
        0.06, {"claude-3-5-haiku-20241022": 3, "claude-haiku-4-5-20251001": 3, "gpt-4o-mini": 3,
               "gemini-2.5-flash": 2, "claude-sonnet-4-5-20250929": 1, "claude-opus-4-1-20250805": 0.3,
               "ft:gpt-4o-mini-2024-07-18:acme:triage:9x2k1": 0.2},
        "resolved", 0.9, ("6.00", "8.50", "12.50", "15.00", "22.00"), 0.55, 0.07,
    ),
    Workflow(
        "code-review", "engineering", 0.22, (0.90, 0.06, 0.02, 0.02), 6, 5, (14000, 0.9), (900, 0.8), 0.75,
        0.05, {"claude-sonnet-4-5-20250929": 4, "gpt-5": 2, "o3": 1, "claude-opus-4-1-20250805": 1,
               "gpt-4.1": 1, "claude-sonnet-4-20250514": 1, "openai/gpt-4o": 0.3},
        "merged", 0.8, ("18.00", "25.00", "40.00", "60.00"), 1.0, 0.0,
    ),
    Workflow(
        "invoice-extraction", "finance", 0.24, (0.95, 0.04, 0.005, 0.005), 2, 0.5, (2500, 0.5), (600, 0.4),
        0.3, 0.03, {"gpt-4o-2024-08-06": 3, "gemini-2.5-flash": 3, "gpt-4o-mini": 2, "gemini-2.0-flash": 1,
                    "gemini-2.5-pro": 0.5, "acme-llama-3.1-70b-ft": 0.3},
        "extracted", 0.95, ("0.80", "1.20", "2.40"), 0.9, 0.01, batch=0.35,
    ),
    Workflow(
        "research-agent", "research", 0.12, (0.60, 0.20, 0.08, 0.12), 18, 20, (22000, 1.0), (1500, 0.9),
        0.7, 0.12, {"claude-opus-4-1-20250805": 2, "o3": 2, "gemini-2.5-pro": 2, "claude-sonnet-4-5-20250929": 2,
                    "gpt-5": 1, "o4-mini": 1, "gpt-5-mini": 0.5},
        "report_delivered", 0.7, ("35.00", "75.00", "150.00"), 0.6, 0.03, subtasks=0.35, batch=0.05,
    ),
)
WORKFLOW_INDEX = {w.name: i for i, w in enumerate(WORKFLOWS)}

#: Team → projects. Usage without a task is spread over all teams.
PROJECTS: dict[str, tuple[str, ...]] = {
    "support": ("helpdesk", "chat-widget", "email-triage"),
    "engineering": ("monorepo", "mobile-app", "platform"),
    "finance": ("ap-automation", "expense-audit", "procurement"),
    "research": ("market-intel", "due-diligence", "competitive"),
    "data": ("etl", "analytics", "search-index"),
    "marketing": ("copy-gen", "seo", "campaigns"),
}
TEAMS: tuple[str, ...] = tuple(PROJECTS)
USERS_PER_CUSTOMER = 24
#: Ad-hoc usage (no task) per team, relative.
ADHOC_TEAM_WEIGHTS = np.array([1.0, 2.0, 0.5, 1.0, 2.0, 1.5])
ADHOC = Workflow(
    "", "", 0.0, (1, 0, 0, 0), 1, 1, (1800, 1.2), (400, 1.0), 0.25, 0.0,
    {"gpt-4o-mini": 3, "claude-sonnet-4-5-20250929": 2, "gemini-2.5-flash": 2, "gpt-4.1": 1,
     "claude-haiku-4-5-20251001": 1, "gpt-5": 1, "gemini-2.5-pro": 0.5, "o4-mini": 0.5, "claude-sonnet-4-20250514": 0.5},
    batch=0.08,
)

_NAME_A = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne",
    "Soylent", "Vandelay", "Pied Piper", "Massive Dynamic", "Aperture", "Oscorp", "Nakatomi", "Dunder",
    "Prestige", "Sterling", "Blue Sun", "Monarch", "Virtucon", "Gekko", "Bluth", "Krusty", "Sirius",
    "Zorg", "Ollivander", "Wernham",
)
_NAME_B = (
    "Labs", "Health", "Logistics", "Bank", "Retail", "Media", "Energy", "Legal", "Robotics", "Insurance",
    "Travel", "Foods", "Analytics", "Telecom", "Studios",
)


def customer_id(i: int) -> str:
    """The subject of customer number ``i`` (0-based): ``cus_0001`` …"""
    return f"cus_{i + 1:04d}"


def customer_names(count: int = 50) -> dict[str, str]:
    """Customer id → a company-ish display name, deterministic and unique."""
    names: dict[str, str] = {}
    for i in range(count):
        a = _NAME_A[i % len(_NAME_A)]
        b = _NAME_B[(i * 7 + i // len(_NAME_A)) % len(_NAME_B)]
        suffix = "" if i < len(_NAME_A) * len(_NAME_B) else f" {i // (len(_NAME_A) * len(_NAME_B)) + 1}"
        names[customer_id(i)] = f"{a} {b}{suffix}"
    return names


def customer_weights(count: int) -> np.ndarray:
    """Share of traffic per customer: a Zipf-like head (cus_0001 is the biggest)."""
    w = 1.0 / np.arange(1, count + 1) ** 1.1
    return w / w.sum()


def customer_workflow_mix(count: int) -> np.ndarray:
    """(customers, workflows) cumulative probabilities: each customer leans on a few workflows."""
    rng = np.random.default_rng(20_240_601)
    base = np.array([w.weight for w in WORKFLOWS])
    mix = rng.dirichlet(base * 4, size=count)
    return np.cumsum(mix, axis=1)
