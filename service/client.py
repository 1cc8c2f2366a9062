"""Python client for the claimcheck service (sync and async), with typed results.

    with ClaimCheckClient("http://127.0.0.1:8000") as client:
        for claim in client.check("Finland joined NATO in April 2023.").claims:
            print(claim.verdict, claim.claim)

Connection failures are retried with exponential back-off (the request never reached the
server, so a retry is safe); an error answer raises ServiceError with its status and code.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from pydantic import BaseModel

from service.api.schemas import CheckResponse, ClaimResultOut, ClaimsResponse, VerifyBatchResponse

DEFAULT_URL = "http://127.0.0.1:8000"
_RETRIED = (httpx.ConnectError, httpx.ConnectTimeout)


class ServiceError(Exception):
    """The service answered with an error (`status`, `code`, `message` from its JSON body)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class ServiceUnreachable(ServiceError):
    """No connection could be made to the service, even after retries."""

    def __init__(self, url: str, error: Exception):
        super().__init__(0, "unreachable", f"cannot reach the service at {url} ({error})")


class ServiceTimeout(ServiceError):
    """The service took longer to answer than the client's timeout."""

    def __init__(self, url: str, timeout: float):
        super().__init__(0, "timeout", f"the service at {url} did not answer within {timeout:g} s")


class BadServiceURL(ServiceError):
    """The service's address is not an http:// or https:// URL."""

    def __init__(self, url: str):
        super().__init__(0, "bad_url", f"{url!r} is not an http:// or https:// URL (for example http://127.0.0.1:8000)")


def _failure(base_url: str, timeout: float, error: Exception) -> ServiceError:
    """The ServiceError for a request that got no answer."""
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return BadServiceURL(base_url)
    return ServiceTimeout(base_url, timeout) if isinstance(error, httpx.TimeoutException) else ServiceUnreachable(base_url, error)


def _parse(response: httpx.Response, model: type[BaseModel]):
    try:
        body = response.json()
    except ValueError:
        raise ServiceError(response.status_code, "not_json", response.text[:200]) from None
    if response.status_code != 200:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise ServiceError(response.status_code, error.get("code", "error"), error.get("message", str(body)))
    return model.model_validate(body)


def _body(**fields) -> dict:
    return {key: value for key, value in fields.items() if value is not None}


class ClaimCheckClient:
    """Blocking client."""

    def __init__(self, base_url: str = DEFAULT_URL, timeout: float = 120.0, retries: int = 3, backoff: float = 0.5):
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> ClaimCheckClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                return self._http.post(path, json=body)
            except _RETRIED as error:
                if attempt == self.retries:
                    raise ServiceUnreachable(self.base_url, error) from error
                time.sleep(self.backoff * 2**attempt)
            except (httpx.HTTPError, httpx.InvalidURL) as error:  # a read timeout, a URL that is not http(s)...
                raise _failure(self.base_url, self.timeout, error) from error
        raise AssertionError("unreachable")

    def check(self, text: str, top_k: int | None = None) -> CheckResponse:
        """Claims found in `text` with their verdicts."""
        return _parse(self._post("/v1/check", _body(text=text, top_k=top_k)), CheckResponse)

    def verify(self, claim: str, top_k: int | None = None) -> ClaimResultOut:
        """The verdict on one claim, exactly as given."""
        return _parse(self._post("/v1/verify", _body(claim=claim, top_k=top_k)), ClaimResultOut)

    def verify_batch(self, claims: list[str], top_k: int | None = None) -> VerifyBatchResponse:
        """Verdicts on several claims in one call, in the same order."""
        return _parse(self._post("/v1/verify/batch", _body(claims=claims, top_k=top_k)), VerifyBatchResponse)

    def claims(self, text: str) -> ClaimsResponse:
        """Claim candidates of `text` with their check-worthiness, no retrieval."""
        return _parse(self._post("/v1/claims", {"text": text}), ClaimsResponse)


class AsyncClaimCheckClient:
    """Asynchronous client with the same methods as ClaimCheckClient."""

    def __init__(self, base_url: str = DEFAULT_URL, timeout: float = 120.0, retries: int = 3, backoff: float = 0.5):
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> AsyncClaimCheckClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: dict) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                return await self._http.post(path, json=body)
            except _RETRIED as error:
                if attempt == self.retries:
                    raise ServiceUnreachable(self.base_url, error) from error
                await asyncio.sleep(self.backoff * 2**attempt)
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                raise _failure(self.base_url, self.timeout, error) from error
        raise AssertionError("unreachable")

    async def check(self, text: str, top_k: int | None = None) -> CheckResponse:
        return _parse(await self._post("/v1/check", _body(text=text, top_k=top_k)), CheckResponse)

    async def verify(self, claim: str, top_k: int | None = None) -> ClaimResultOut:
        return _parse(await self._post("/v1/verify", _body(claim=claim, top_k=top_k)), ClaimResultOut)

    async def verify_batch(self, claims: list[str], top_k: int | None = None) -> VerifyBatchResponse:
        return _parse(await self._post("/v1/verify/batch", _body(claims=claims, top_k=top_k)), VerifyBatchResponse)

    async def claims(self, text: str) -> ClaimsResponse:
        return _parse(await self._post("/v1/claims", {"text": text}), ClaimsResponse)
