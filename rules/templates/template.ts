/**
 * A small Mustache-like template language for reply mails, kept deliberately tiny so admins
 * cannot run code from YAML: `{{name}}`, `{{#list}}…{{/list}}` (repeat per item, or show when a
 * text is non-empty), `{{^name}}…{{/name}}` (show when empty). Nothing else.
 */

/** Variables a template may use; a list variable's items have the fields given. */
export const TEMPLATE_VARIABLES = {
  ticket_number: 'text',
  subject: 'text',
  customer_name: 'text',
  customer_email: 'text',
  mailbox_name: 'text',
  mailbox_address: 'text',
  category: 'text',
  response_time: 'text',
  status: 'text',
  /** The warning about sensitive data in the message, when the mail that answers it carries one. */
  sensitive_notice: 'text',
  missing: ['label', 'hint'],
  sensitive: ['label'],
} as const satisfies Record<string, 'text' | readonly string[]>;

export type TemplateVariables = typeof TEMPLATE_VARIABLES;
export type TemplateValues = {
  [K in keyof TemplateVariables]?: TemplateVariables[K] extends readonly string[] ? Array<Record<TemplateVariables[K][number], string>> : string;
};

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string }
  | { kind: 'section'; name: string; inverted: boolean; children: Node[] };

type ParseResult = { ok: true; nodes: Node[] } | { ok: false; problem: string };

function parse(source: string): ParseResult {
  const root: Node[] = [];
  const stack: Array<{ name: string; children: Node[] }> = [{ name: '', children: root }];
  const pushText = (text: string): string | null => {
    if (text.includes('{{') || text.includes('}}')) return 'a lone "{{" or "}}"';
    if (text) stack.at(-1)!.children.push({ kind: 'text', text });
    return null;
  };
  let last = 0;
  for (const match of source.matchAll(/\{\{([^{}]*)\}\}/g)) {
    const textProblem = pushText(source.slice(last, match.index));
    if (textProblem) return { ok: false, problem: textProblem };
    last = match.index + match[0].length;
    const tag = /^\s*([#^/]?)\s*([a-z_][a-z0-9_]*)\s*$/.exec(match[1]!);
    if (!tag) return { ok: false, problem: `"${match[0]}" is not a tag (use {{name}}, {{#name}}…{{/name}} or {{^name}}…{{/name}})` };
    const [, sigil, name] = tag as unknown as [string, string, string];
    const top = stack.at(-1)!;
    if (sigil === '#' || sigil === '^') {
      const node: Node = { kind: 'section', name, inverted: sigil === '^', children: [] };
      top.children.push(node);
      stack.push({ name, children: node.children });
    } else if (sigil === '/') {
      if (stack.length === 1 || top.name !== name) return { ok: false, problem: `"{{/${name}}}" closes nothing open` };
      stack.pop();
    } else {
      top.children.push({ kind: 'var', name });
    }
  }
  const textProblem = pushText(source.slice(last));
  if (textProblem) return { ok: false, problem: textProblem };
  if (stack.length > 1) return { ok: false, problem: `"{{#${stack.at(-1)!.name}}}" is never closed` };
  return { ok: true, nodes: root };
}

/**
 * Variables a kind of mail has no value for: a notification is about the ticket, not one
 * message, so it has no sensitive findings; the warning that goes alone has no notice to embed.
 */
export const UNAVAILABLE_VARIABLES = {
  reply: [],
  sensitive_warning: ['sensitive_notice'],
  sensitive_notice: ['sensitive_notice'],
  notification: ['sensitive', 'sensitive_notice'],
} as const satisfies Record<string, ReadonlyArray<keyof TemplateVariables>>;
export type MailKindForTemplates = keyof typeof UNAVAILABLE_VARIABLES;

/** The variables a template of this kind of mail may use. */
export function variablesFor(kind: MailKindForTemplates): Record<string, 'text' | readonly string[]> {
  const unavailable = new Set<string>(UNAVAILABLE_VARIABLES[kind]);
  return Object.fromEntries(Object.entries(TEMPLATE_VARIABLES).filter(([name]) => !unavailable.has(name)));
}

/** What is wrong with a template: syntax, unknown variables, list fields used outside their list. */
export function templateProblems(source: string, variables: Record<string, 'text' | readonly string[]>): string[] {
  const parsed = parse(source);
  if (!parsed.ok) return [parsed.problem];
  const problems: string[] = [];
  const known = Object.keys(variables).join(', ');
  const visit = (nodes: Node[], itemFields: readonly string[] | null): void => {
    for (const node of nodes) {
      if (node.kind === 'text') continue;
      const inItem = itemFields?.includes(node.name) ?? false;
      if (!inItem && !(node.name in variables)) {
        problems.push(
          node.name in TEMPLATE_VARIABLES
            ? `"${node.name}" has no value in this kind of mail; available: ${known}`
            : `unknown variable "${node.name}"; known: ${known}`,
        );
      }
      if (node.kind === 'var' && !inItem && Array.isArray(variables[node.name])) {
        problems.push(`"${node.name}" is a list: use {{#${node.name}}}…{{/${node.name}}}`);
      }
      if (node.kind === 'section') {
        // a list this kind lacks still has its item fields: report the list once, not each field
        const spec = variables[node.name] ?? (TEMPLATE_VARIABLES as Record<string, 'text' | readonly string[]>)[node.name];
        visit(node.children, Array.isArray(spec) && !node.inverted ? spec : itemFields);
      }
    }
  };
  visit(parsed.nodes, null);
  return problems;
}

/** Control characters, including CR and LF: never allowed into a header. */
const HEADER_UNSAFE = /[\u0000-\u001f\u007f\u2028\u2029]+/g;
/** Control characters a plain-text body must not carry (tab and line feed stay). */
const BODY_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f]+/g;

/**
 * Renders a template. Inserted values are escaped for where they land: in a header (`subject`)
 * any line break or control character becomes a space, so customer text can never start a new
 * header; in a body only stray control characters are removed.
 */
export function renderTemplate(source: string, values: TemplateValues, target: 'header' | 'body'): string {
  const parsed = parse(source);
  if (!parsed.ok) throw new Error(`template does not parse: ${parsed.problem}`);
  const clean = (text: string) => (target === 'header' ? text.replace(HEADER_UNSAFE, ' ') : text.replace(/\r\n?/g, '\n').replace(BODY_UNSAFE, ''));
  const lookup = (name: string, scope: Record<string, unknown>[]): unknown => {
    for (let i = scope.length - 1; i >= 0; i -= 1) if (name in scope[i]!) return scope[i]![name];
    return undefined;
  };
  const walk = (nodes: Node[], scope: Record<string, unknown>[]): string =>
    nodes
      .map((node) => {
        if (node.kind === 'text') return node.text;
        const value = lookup(node.name, scope);
        if (node.kind === 'var') return typeof value === 'string' ? clean(value) : '';
        const empty = value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
        if (node.inverted) return empty ? walk(node.children, scope) : '';
        if (empty) return '';
        if (Array.isArray(value)) return value.map((item: Record<string, unknown>) => walk(node.children, [...scope, item])).join('');
        return walk(node.children, scope);
      })
      .join('');
  const out = walk(parsed.nodes, [values as Record<string, unknown>]);
  return target === 'header' ? out.replace(HEADER_UNSAFE, ' ').replace(/\s{2,}/g, ' ').trim() : out;
}
