import type { RulesView } from '../rules-store.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { Principal } from './session.js';

export type { RulesView };

/** What was typed into the playground, shown again with the problem when it cannot run. */
export interface PlaygroundInput {
  message: string;
  inboundId: string;
  ticket: string;
}

/**
 * Which rules serve, and how the last edit of the file went, each problem with its line and
 * column; for admins, the playground form that tries a mail against them.
 */
export function rulesPage(view: RulesView, options: { principal: Principal; csrf: string; playground?: { input: PlaygroundInput; problem: string } }): string {
  const { ruleSet, lastReload } = view;
  const body = html`<h1>Rules</h1>
<p>File <code>${view.file}</code></p>
${
  lastReload.ok
    ? html`<p role="status" class="sent">The file on disk is in force (loaded <time datetime="${lastReload.at.toISOString()}">${lastReload.at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>).</p>`
    : html`<div role="alert" class="error"><p>The last edit (<time datetime="${lastReload.at.toISOString()}">${lastReload.at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>) was rejected; the last good rules stay in force.</p>
<ul>${view.problems.map((p) => html`<li><code>${p.file}:${p.line ?? '?'}:${p.column ?? '?'}</code> ${p.path ? html`<code>${p.path}</code> ` : ''}${p.message}</li>`)}</ul>
${view.problems.length === 0 && lastReload.error ? html`<pre>${lastReload.error}</pre>` : ''}</div>`
}
<section aria-labelledby="mailboxes"><h2 id="mailboxes">Mailboxes</h2>
<ul>${ruleSet.mailboxes.map((m) => html`<li>${m.address} (${m.name}, ${m.language})</li>`)}</ul></section>
<section aria-labelledby="fields"><h2 id="fields">Details asked for</h2>
<ul>${ruleSet.fields.map((f) => html`<li><code>${f.id}</code> ${Object.values(f.label)[0] ?? ''}</li>`)}</ul></section>
${options.principal.role === 'admin' ? playgroundForm(options.csrf, options.playground) : ''}`;
  return page('Rules', body, options);
}

/** Admins only: the same dry run as `rules test`, which can read tickets and stored mail. */
function playgroundForm(csrf: string, playground: { input: PlaygroundInput; problem: string } | undefined) {
  const input = playground?.input;
  return html`<section aria-labelledby="playground"><h2 id="playground">Playground</h2>
<p>Paste a mail with its headers, or give a stored spool row, to see what the daemon would decide. Nothing is stored or sent.</p>
${playground ? html`<p role="alert" class="error">${playground.problem}</p>` : ''}
<form method="post" action="/rules/playground">
  <input type="hidden" name="csrf" value="${csrf}">
  <label>Raw mail (RFC 5322, headers first) <textarea name="message" rows="14" spellcheck="false">${input?.message ?? ''}</textarea></label>
  <label>Or a spool row id <input name="inboundId" inputmode="numeric" pattern="[0-9]*" value="${input?.inboundId ?? ''}"></label>
  <label>As a reply on ticket number (optional) <input name="ticket" inputmode="numeric" pattern="[0-9]*" value="${input?.ticket ?? ''}"></label>
  <p><button type="submit">Try the rules</button></p>
</form></section>`;
}
