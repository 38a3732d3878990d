// The collector's JSON API (/api/v1, same origin). When tokens are configured the viewer's bearer
// token is kept in sessionStorage only (gone when the tab closes) and sent on every call.
'use strict';
window.OL = window.OL || {};

(function (OL) {
  const TOKEN_KEY = 'octolaunch.token';

  // Thrown for 401 and 403: the page shows the token prompt instead of its content.
  class AuthError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }
  OL.AuthError = AuthError;

  OL.token = {
    get: () => sessionStorage.getItem(TOKEN_KEY) || '',
    set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
    clear: () => sessionStorage.removeItem(TOKEN_KEY),
  };

  // GET path -> the parsed JSON object. Throws AuthError (401/403) or Error with the API's
  // {"error"} message.
  OL.api = async function (path, params) {
    let url = path;
    if (params) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
      const s = q.toString();
      if (s) url += '?' + s;
    }
    const headers = { Accept: 'application/json' };
    const token = OL.token.get();
    if (token) headers.Authorization = 'Bearer ' + token;
    let response;
    try {
      response = await fetch(url, { headers, credentials: 'omit', cache: 'no-store' });
    } catch (e) {
      throw new Error('the collector did not answer (' + e.message + ')');
    }
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    const message = body && typeof body.error === 'string' ? body.error : 'HTTP ' + response.status;
    if (response.status === 401 || response.status === 403) throw new AuthError(response.status, message);
    if (!response.ok) {
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
  };
})(window.OL);
