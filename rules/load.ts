import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ZodType } from 'zod';
import { ruleSetSchema, type RuleSet } from './schema.js';

/** One thing wrong with a rules file, located for the admin who has to fix it. */
export interface RuleProblem {
  file: string;
  line: number | null;
  column: number | null;
  /** Dotted path such as `mailboxes[2].address`. */
  path: string;
  message: string;
}

export type LoadResult = { ok: true; ruleSet: RuleSet } | { ok: false; problems: RuleProblem[] };

/** Parses and validates YAML text. Pure: the caller reads the file and decides what to do. */
export function loadRuleSet(text: string, file: string): LoadResult {
  const loaded = loadYaml(text, file, ruleSetSchema);
  return loaded.ok ? { ok: true, ruleSet: loaded.value } : loaded;
}

/**
 * Parses YAML text and validates it with `schema`, each problem located by line and column:
 * the rules file and the other files admins write (the API tokens file) report alike.
 */
export function loadYaml<T>(text: string, file: string, schema: ZodType<T>): { ok: true; value: T } | { ok: false; problems: RuleProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => {
        const pos = lineCounter.linePos(error.pos[0]);
        return { file, line: pos?.line ?? null, column: pos?.col ?? null, path: '', message: error.message.split('\n')[0]! };
      }),
    };
  }
  const parsed = schema.safeParse(doc.toJS({ maxAliasCount: 100 }) ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
      // Unknown keys are reported on their parent; point at the key itself when we can.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const located = locate(doc.contents, keys.length > 0 ? [...path, keys[0]!] : path, keys.length > 0, lineCounter);
      return { file, line: located?.line ?? null, column: located?.col ?? null, path: formatPath(path), message: issue.message };
    }),
  };
}

/** Formats a path like zod's as `categories[2].fields[0].pattern`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${key}` : key), '');
}

/** Formats a problem the way compilers do: `file:line:col: path: message`. */
export function formatProblem(problem: RuleProblem): string {
  const where = problem.line === null ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}

function locate(
  root: unknown,
  path: ReadonlyArray<string | number>,
  wantKey: boolean,
  lineCounter: LineCounter,
): { line: number; col: number } | null {
  let node: unknown = root;
  let last: Node | null = (root as Node | null) ?? null;
  for (let i = 0; i < path.length; i += 1) {
    const key = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      if (wantKey && i === path.length - 1) {
        last = pair.key as Node;
        break;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
    } else {
      break;
    }
    if (node && typeof node === 'object' && 'range' in node) last = node as Node;
  }
  const offset = last?.range?.[0];
  return offset === undefined ? null : lineCounter.linePos(offset);
}
