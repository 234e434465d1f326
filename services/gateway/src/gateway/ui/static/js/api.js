// The REST API (/api/v1), authenticated by the HttpOnly cookie the login set.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// `query` values may be arrays (repeated parameters); empty ones are left out.
export async function api(path, { method = "GET", query = {}, json, form } = {}) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [name, value] of Object.entries(query)) {
    for (const one of [value].flat()) {
      if (one != null && one !== "") url.searchParams.append(name, one);
    }
  }
  const init = { method, headers: { Accept: "application/json" } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  const response = await fetch(url, init);
  if (response.status === 401) signIn();
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body?.error ?? {};
    throw new ApiError(
      response.status,
      error.code ?? "http_error",
      error.message ?? response.statusText,
    );
  }
  return body;
}

// The session has ended (the token expired): sign in again, then come back here.
export function signIn() {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}
