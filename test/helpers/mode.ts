/** Which services the suites run against: real PostgreSQL + Redis when both URLs are set. */
export const realMode = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
export const TEMPLATE_DATABASE = 'mailroom_test_template';

/** The URL of another database on the same server as DATABASE_URL. */
export function databaseUrl(name: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}
