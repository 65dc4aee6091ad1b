import { html } from './html.js';
import { page } from './layout.js';

export function loginPage(problem: string | null): string {
  return page(
    'Log in',
    html`<h1>Log in</h1>
<form method="post" action="/login">
  <label>API token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
  ${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
  <p><button type="submit">Log in</button></p>
</form>
<p class="meta">Your token is kept in a cookie scripts cannot read, for 12 hours.</p>`,
  );
}
