"""Model aliases: the one place a (provider, model) string becomes a catalog model.

Resolution is explicit and deterministic; an unmatched string resolves to
``None`` (the event is ``unpriced: unknown model``), never to a guess.

1. The provider is normalized: ``bedrock``/``aws-bedrock`` → ``aws``,
   ``vertex``/``vertex_ai``/``gemini`` → ``google``, ``azure_openai`` →
   ``azure``, ``xai`` → ``x-ai`` …; then the catalog's own provider ids and
   ``provider_match`` clauses. No provider → inferred from the model string
   by the providers' ``model_match`` clauses (``gpt-…`` → openai).
2. The model string is reduced to the model id: a Vertex resource path
   (``projects/…/publishers/google/models/gemini-2.5-pro``) keeps what follows
   ``models/``; a Bedrock ARN keeps what follows the last ``/``; a provider
   prefix (``openai/gpt-4o``, ``anthropic/claude-…``) is dropped and names the
   provider when none was given — except on routers (OpenRouter) whose ids
   are ``vendor/model`` by design.
3. The id is matched against the provider's models in catalog order by their
   match clauses (dated snapshots such as ``claude-sonnet-4-5-20250929``,
   Bedrock ids such as ``us.anthropic.claude-3-5-sonnet-20241022-v2:0`` and
   Vertex ids such as ``claude-3-5-sonnet-v2@20241022`` are clauses of the
   catalog data); a compact date suffix (``-20251211``) is retried in dashed
   form; then the provider's documented fallback providers, one step.
"""

from __future__ import annotations

import re
from datetime import date

from workmeter.catalog.clauses import matches
from workmeter.catalog.model import Catalog, ModelEntry

PROVIDER_ALIASES: dict[str, str] = {
    "bedrock": "aws", "aws-bedrock": "aws", "aws_bedrock": "aws", "amazon-bedrock": "aws",
    "amazon_bedrock": "aws", "amazon": "aws",
    "vertex": "google", "vertex_ai": "google", "vertexai": "google", "vertex-ai": "google",
    "google-vertex": "google", "gemini": "google", "google-genai": "google", "google_genai": "google",
    "google-ai": "google", "gcp": "google",
    "azure_openai": "azure", "azure-openai": "azure", "azure_ai": "azure",
    "xai": "x-ai", "x.ai": "x-ai", "grok": "x-ai",
    "mistralai": "mistral", "meta-llama": "meta", "together_ai": "together", "togetherai": "together",
    "fireworks_ai": "fireworks", "fireworks-ai": "fireworks",
}
#: Providers whose model ids are ``vendor/model`` by design (never strip the prefix).
ROUTERS: frozenset[str] = frozenset({"openrouter", "together", "fireworks", "groq", "novita", "deepinfra",
                                     "huggingface", "cloudflare"})

_VERTEX_PATH = re.compile(r"(?:^|/)publishers/([^/]+)/models/([^/]+)$")
_ARN = re.compile(r"^arn:aws[\w-]*:bedrock:[^:]*:[^:]*:[\w-]+/(.+)$")
_COMPACT_DATE = re.compile(r"(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")


def normalize_provider(catalog: Catalog, raw: str | None) -> str | None:
    """A raw provider string → a catalog provider id, or None when not known."""
    value = (raw or "").strip().lower()
    if not value:
        return None
    value = PROVIDER_ALIASES.get(value, value)
    if value in catalog.providers:
        return value
    for p in catalog.providers.values():
        if p.provider_match is not None and matches(p.provider_match, value):
            return p.id
    return None


def model_id(raw: str, provider: str | None) -> tuple[str, str | None]:
    """Strip resource paths, ARNs and provider prefixes → (model id, provider hint)."""
    text = raw.strip().lower()
    hint: str | None = None
    if m := _VERTEX_PATH.search(text):
        text, hint = m.group(2), "google"
    elif m := _ARN.match(text):
        text, hint = m.group(1), "aws"
    if "/" in text and provider not in ROUTERS:
        prefix, rest = text.split("/", 1)
        if provider is None or PROVIDER_ALIASES.get(prefix, prefix) == provider:
            text, hint = rest, PROVIDER_ALIASES.get(prefix, prefix)
    return text, hint


def _dashed_dates(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        try:
            date(int(m.group(2)), int(m.group(3)), int(m.group(4)))
        except ValueError:
            return m.group(0)
        return f"-{m.group(2)}-{m.group(3)}-{m.group(4)}"

    return _COMPACT_DATE.sub(repl, text)


def _match_in(catalog: Catalog, provider: str, text: str) -> ModelEntry | None:
    for entry in catalog.models.get(provider, ()):
        if matches(entry.match, text):
            return entry
    return None


def find_model(catalog: Catalog, provider: str, text: str, *, fallback: bool = True) -> ModelEntry | None:
    for candidate in dict.fromkeys((text, _dashed_dates(text))):
        if entry := _match_in(catalog, provider, candidate):
            return entry
    if fallback:
        for other in catalog.providers[provider].fallbacks if provider in catalog.providers else ():
            if entry := find_model(catalog, other, text, fallback=False):
                return entry
    return None


def infer_provider(catalog: Catalog, text: str) -> str | None:
    for p in catalog.providers.values():
        if p.model_match is not None and matches(p.model_match, text):
            return p.id
    return None


def resolve(catalog: Catalog, provider_raw: str | None, model_raw: str | None) -> ModelEntry | None:
    """(provider, model) strings as recorded on an event → the catalog model, or None."""
    if not model_raw or not model_raw.strip():
        return None
    provider = normalize_provider(catalog, provider_raw)
    if provider_raw and provider_raw.strip() and provider is None:
        return None
    if provider is not None and (entry := find_model(catalog, provider, model_raw.strip().lower())):
        return entry  # the string is a catalog id as is (e.g. ``perplexity/sonar-pro`` on perplexity)
    text, hint = model_id(model_raw, provider)
    if provider is None and hint is not None:
        provider = normalize_provider(catalog, hint)
    if provider is None:
        provider = infer_provider(catalog, text)
    if provider is None:
        return None
    return find_model(catalog, provider, text)
