import type { RuleProblem } from '../../rules/load.js';
import type { RuleSet } from '../../rules/schema.js';
import type { RulesReload } from '../rules-store.js';
import { html } from './html.js';
import { page } from './layout.js';
import type { Principal } from './session.js';

export interface RulesView {
  file: string;
  ruleSet: RuleSet;
  lastReload: RulesReload;
  problems: RuleProblem[];
}

/** Which rules serve, and how the last edit of the file went, each problem with its line and column. */
export function rulesPage(view: RulesView, options: { principal: Principal; csrf: string }): string {
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
<ul>${ruleSet.fields.map((f) => html`<li><code>${f.id}</code> ${Object.values(f.label)[0] ?? ''}</li>`)}</ul></section>`;
  return page('Rules', body, options);
}
