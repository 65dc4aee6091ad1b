import { getTableColumns } from 'drizzle-orm';
import { makePgArray, parsePgArray, type PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';

/*
 * Statements of the per-mail path whose text never changes: written once, sent to the driver with
 * only their parameters. drizzle's query builder costs far more CPU per statement than the driver
 * and PostgreSQL together spend on a prepared one (in a profile of the new-customer benchmark it was
 * 18.8 % of the daemon's busy time, for ~20 statements per mail), and a fixed text is also what postgres.js prepares once per
 * connection. Cold paths stay on drizzle.
 *
 * Rows come back as plain objects keyed by the statement's column names (alias them to the
 * property names the code reads), with the same types on both drivers: bigint as number,
 * timestamptz as Date, text[] as string[], json and jsonb parsed, bytea as Buffer.
 */

/** A statement's text, with what was learnt about its result columns on each driver. */
export interface FixedStatement {
  readonly text: string;
  /** Conversions of the result columns on each driver, found from its first result's column types. */
  readonly converters: { postgresJs?: ColumnConverter[]; pglite?: ColumnConverter[] };
}

interface ColumnConverter {
  name: string;
  convert: (value: unknown) => unknown;
}

export function fixedStatement(text: string): FixedStatement {
  return { text, converters: {} };
}

/** A json or jsonb parameter (cast it with ::jsonb): postgres.js is told to send such values as given. */
export function jsonParameter(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** An array parameter (cast it with ::text[], ::bigint[]): array literal text, which both drivers pass as it is. */
export function arrayParameter(values: ReadonlyArray<string | number>): string {
  return makePgArray(values as Array<string | number>);
}

/**
 * `"column" as "property", …` for every column of `table`, the statement's row then having the
 * shape of `typeof table.$inferSelect` (types as this module gives them).
 */
export function selectListOf(table: PgTable): string {
  return Object.entries(getTableColumns(table))
    .map(([property, column]) => `"${column.name}" as "${property}"`)
    .join(', ');
}

interface PostgresJsClient {
  unsafe(text: string, parameters: unknown[], options: { prepare: boolean }): Promise<PostgresJsResult>;
}
type PostgresJsResult = Array<Record<string, unknown>> & { columns?: Array<{ name: string; type: number }> };

interface PgliteClient {
  query(text: string, parameters: unknown[]): Promise<{ rows: Array<Record<string, unknown>>; fields: Array<{ name: string; dataTypeID: number }> }>;
}

const TYPE = { bytea: 17, int8: 20, timestamp: 1114, textArray: 1009, timestamptz: 1184 } as const;

/**
 * postgres.js as drizzle sets it up hands timestamps back as their text (drizzle's columns parse
 * them), int8 as text, and arrays as their literal (the daemon's clients fetch no array types).
 */
const postgresJsConversions: Record<number, (value: unknown) => unknown> = {
  [TYPE.int8]: (value) => Number(value),
  [TYPE.timestamptz]: (value) => new Date(value as string),
  [TYPE.timestamp]: (value) => new Date(`${value as string}+0000`),
  [TYPE.textArray]: (value) => parsePgArray(value as string),
};

/** PGlite parses every type the code reads but bytea, which it gives as a Uint8Array. */
const pgliteConversions: Record<number, (value: unknown) => unknown> = {
  [TYPE.bytea]: (value) => {
    const bytes = value as Uint8Array;
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
  [TYPE.int8]: (value) => (typeof value === 'bigint' ? Number(value) : value),
};

/**
 * Runs `statement` on `db`, the pool or a transaction (drizzle's transaction handle, or a lane of
 * one), with `parameters` in $1, $2, … order. Dates are sent as ISO text on both drivers; json and
 * array parameters go through jsonParameter and arrayParameter.
 */
export async function runFixed<Row>(db: Db, statement: FixedStatement, parameters: readonly unknown[]): Promise<Row[]> {
  const client = (db as unknown as { session: { client: unknown } }).session.client;
  const values = parameters.map((value) => (value instanceof Date ? value.toISOString() : value));
  if (isPostgresJs(client)) {
    const result = await client.unsafe(statement.text, values, { prepare: true });
    statement.converters.postgresJs ??= convertersOf(result.columns?.map((column) => ({ name: column.name, type: column.type })) ?? [], postgresJsConversions);
    return convertRows(result, statement.converters.postgresJs);
  }
  const result = await (client as PgliteClient).query(statement.text, values);
  statement.converters.pglite ??= convertersOf(result.fields.map((field) => ({ name: field.name, type: field.dataTypeID })), pgliteConversions);
  return convertRows(result.rows, statement.converters.pglite);
}

// postgres.js's `sql` (and its transaction `sql`) has `unsafe`; PGlite has not
function isPostgresJs(client: unknown): client is PostgresJsClient {
  return typeof (client as { unsafe?: unknown }).unsafe === 'function';
}

/** A fixed text has the same result columns every time, so this runs once per statement and driver. */
function convertersOf(columns: Array<{ name: string; type: number }>, conversions: Record<number, (value: unknown) => unknown>): ColumnConverter[] {
  return columns.flatMap(({ name, type }) => {
    const convert = conversions[type];
    return convert ? [{ name, convert }] : [];
  });
}

function convertRows<Row>(rows: Array<Record<string, unknown>>, converters: ColumnConverter[]): Row[] {
  if (converters.length > 0) {
    for (const row of rows) {
      for (const { name, convert } of converters) {
        const value = row[name];
        if (value !== null && value !== undefined) row[name] = convert(value);
      }
    }
  }
  return rows as Row[];
}
