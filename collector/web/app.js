// The router: pages by location.pathname (History API), links marked data-nav followed without
// a reload, and the token prompt when the API answers 401 or 403.
'use strict';
window.OL = window.OL || {};

(function (OL) {
  const main = document.getElementById('main');
  let tooltip = null;
  let generation = 0;

  OL.tooltip = function () {
    if (!tooltip) {
      tooltip = document.createElement('div');
      tooltip.className = 'tooltip';
      tooltip.setAttribute('role', 'tooltip');
      tooltip.hidden = true;
      document.body.appendChild(tooltip);
    }
    tooltip.hidden = true;
    return tooltip;
  };

  function decodeSegment(s) {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      return s;
    }
  }

  // The current page's handler of a window resize (the timeline is drawn to its width), or null.
  OL.onResize = null;
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => OL.onResize && OL.onResize(), 150);
  });

  async function route(opts) {
    const mine = ++generation;
    OL.onResize = null;
    const path = location.pathname;
    const query = new URLSearchParams(location.search);
    main.setAttribute('aria-busy', 'true');
    updateTokenControl();
    try {
      let m;
      if (path === '/' || path === '') await OL.releasesPage(main, query);
      else if ((m = path.match(/^\/releases\/([^/]+)$/))) await OL.releasePage(main, decodeSegment(m[1]), query);
      else if ((m = path.match(/^\/hosts\/([^/]+)$/))) await OL.hostPage(main, decodeSegment(m[1]), query);
      else main.innerHTML = `<h1>Not found</h1><p>No page at ${OL.esc(path)}. ${OL.navLink('/', 'All releases')}</p>`;
    } catch (e) {
      if (mine !== generation) return;
      if (e instanceof OL.AuthError) showTokenPrompt(e);
      else main.innerHTML = `<h1>Could not load this page</h1><p class="error">${OL.esc(e.message)}</p><p>${OL.navLink(path + location.search, 'Try again')}</p>`;
    } finally {
      if (mine === generation) main.removeAttribute('aria-busy');
    }
    if (mine !== generation) return;
    const focus = opts && opts.focus ? document.querySelector(opts.focus) : null;
    if (focus) focus.focus();
    else if (opts && opts.fromLink) main.focus({ preventScroll: true });
  }

  // Goes to path (same origin) without a reload.
  OL.navigate = function (path, opts) {
    if (opts && opts.replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    window.scrollTo(0, 0);
    route(Object.assign({ fromLink: true }, opts));
  };

  function showTokenPrompt(error) {
    const had = !!OL.token.get();
    const why = error.status === 403
      ? 'The token in use does not hold the read scope this page needs.'
      : had ? 'The collector did not accept the token.' : 'This collector requires an API token.';
    main.innerHTML =
      '<section class="token-prompt" aria-labelledby="token-title"><h1 id="token-title">Sign in with an API token</h1>' +
      `<p>${OL.esc(why)} <span class="muted">(${OL.esc(error.message)})</span></p>` +
      '<form id="token-form" autocomplete="off">' +
      '<label for="token-input">Bearer token (read scope)</label>' +
      '<input id="token-input" name="token" type="password" required spellcheck="false" autocomplete="off">' +
      '<button type="submit">Use token</button></form>' +
      '<p class="hint">The token is kept in this tab\'s session storage only and sent as ' +
      '<code>Authorization: Bearer</code> to this collector. It is forgotten when the tab closes.</p></section>';
    document.title = 'Token needed · OctoLaunch';
    const form = document.getElementById('token-form');
    const input = document.getElementById('token-input');
    input.focus();
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      OL.token.set(value);
      route();
    });
  }

  function updateTokenControl() {
    const button = document.getElementById('forget-token');
    button.hidden = !OL.token.get();
  }

  document.getElementById('forget-token').addEventListener('click', () => {
    OL.token.clear();
    route();
  });

  // Same-origin links marked data-nav change the page without a reload; a modified click (new tab)
  // is left to the browser.
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a[data-nav]');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const href = a.getAttribute('href') || a.getAttribute('xlink:href');
    if (!href || !href.startsWith('/')) return;
    ev.preventDefault();
    OL.navigate(href);
  });
  window.addEventListener('popstate', () => route());
  route();
})(window.OL);
