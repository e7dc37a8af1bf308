// The API client: every call carries the person's token; an error answer (problem+json) becomes an
// ApiError whose message is what the dashboard shows ("403 Forbidden: ...").

const TOKEN_KEY = 'warden.token';

export class ApiError extends Error {
  constructor(status, title, detail, field) {
    super(`${status} ${title}${detail ? ': ' + detail : ''}${field ? ` (${field})` : ''}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.field = field;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

let onUnauthorized = () => {};

/** Called when the API answers 401: the token is wrong or was revoked. */
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

async function call(method, path, body, accept) {
  // signed out (Forget token) while a refresh was pending: no request, so no 401 to send the person back to the question
  if (!token.get()) throw new ApiError(0, 'Signed out', 'no token');
  const headers = {Authorization: `Bearer ${token.get() || ''}`, Accept: accept};
  const init = {method, headers, cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, 'Unreachable', 'Warden did not answer (' + e.message + ')');
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch (ignored) {
      // not JSON: the status line says enough
    }
    const error = new ApiError(response.status, problem.title || response.statusText || 'Error', problem.detail, problem.field);
    if (response.status === 401) onUnauthorized(error);
    throw error;
  }
  return response;
}

export const api = {
  json: async (path) => (await call('GET', path, undefined, 'application/json')).json(),
  text: async (path) => (await call('GET', path, undefined, 'text/plain')).text(),
  post: async (path, body) => (await call('POST', path, body ?? {}, 'application/json')).json(),
  del: async (path, body) => (await call('DELETE', path, body ?? {}, 'application/json')).json(),
};

/** Path segments are ids from the API: always encoded. */
export function seg(value) {
  return encodeURIComponent(String(value));
}
