import { html, type SafeHtml } from './html.js';
import type { Principal } from './session.js';

/** One page of the console: landmarks, a skip link, the navigation, and nothing inline to run. */
export function page(title: string, body: SafeHtml, options: { principal?: Principal; csrf?: string } = {}): string {
  const nav = options.principal
    ? html`<nav aria-label="Main"><a href="/tickets">Tickets</a><a href="/failures">Failures</a><a href="/rules">Rules</a><a href="/operations">Operations</a>${options.principal.role === 'admin' ? html`<a href="/webhooks">Webhooks</a>` : ''}</nav>
        <form method="post" action="/logout"><input type="hidden" name="csrf" value="${options.csrf ?? ''}"><button type="submit">Log out ${options.principal.name}</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mailroom</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body>
<a href="#content" class="skip">Skip to content</a>
<header class="top"><strong>mailroom</strong>${nav}</header>
<main id="content">
${body}
</main>
</body>
</html>
`.value;
}
