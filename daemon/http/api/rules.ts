import type { z } from 'zod';
import { ApiRequestError, type ApiCall, type ApiRoute } from './router.js';
import { dryRunBody, dryRunRequest, errorBody, rulesBody } from './schemas.js';
import type { ApiServices } from './services.js';

/** The rules file as it serves, and the dry run of a message against it (`rules test`). */
export function rulesRoutes(services: ApiServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/rules',
      role: 'read',
      summary: 'The rules file in force: whether its last edit was accepted, the problems of a rejected one with line and column, the mailboxes.',
      responses: { 200: { description: 'the rules in force', schema: rulesBody } },
      handle: async () => {
        const view = services.rulesView();
        return {
          status: 200,
          body: {
            file: view.file,
            lastReload: { ok: view.lastReload.ok, at: view.lastReload.at.toISOString(), error: view.lastReload.error },
            problems: view.problems,
            mailboxes: view.ruleSet.mailboxes.map((m) => ({ address: m.address, name: m.name, language: m.language })),
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/rules/dry-run',
      role: 'admin',
      summary: 'What the daemon would do with a message (pasted, or a stored spool row\'s bytes), as `rules test --json`: category, fields found and missing, the exact mail that would be sent, status and tags. Nothing is stored or sent.',
      body: dryRunRequest,
      responses: {
        200: { description: 'the decision', schema: dryRunBody },
        400: { description: 'the body does not validate, or the message cannot be parsed', schema: errorBody },
        404: { description: 'no such ticket or spool row', schema: errorBody },
      },
      handle: async ({ body }: ApiCall<unknown, z.output<typeof dryRunRequest>>) => {
        const raw = body.message !== undefined ? Buffer.from(body.message, 'utf8') : { inboundId: body.inboundId! };
        const result = await services.dryRunRules({ raw, ticketNumber: body.ticket ?? null });
        if (!result.ok) throw new ApiRequestError(400, `the message cannot be parsed: ${result.error}`);
        // Any text parses as a body without headers; a mail with no From is not one the daemon could answer.
        if (!result.sender) throw new ApiRequestError(400, 'the message cannot be parsed: it has no From address');
        return { status: 200, body: result.report };
      },
    },
  ];
}
