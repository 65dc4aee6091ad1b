import type { Db } from '../../db/client.js';
import { fieldsOfRequesterTickets } from '../../db/tickets.js';
import type { RuleSet } from '../../rules/schema.js';
import type { FoundField } from '../../rules/verdict.js';

export interface CarriedFields {
  fields: Record<string, FoundField>;
  /** The ticket number each value was taken from. */
  fromTicket: Record<string, number>;
}

/**
 * What is known about a customer before they write: each `scope: customer` field from the
 * requester's latest ticket that has it (a follow-up's parent included). Fields about the problem
 * are never carried: every ticket asks for those anew.
 */
export async function knownCustomerFields(db: Db, ruleSet: RuleSet, requesterId: number, exceptTicketId: number): Promise<CarriedFields> {
  const wanted = ruleSet.fields.filter((field) => field.scope === 'customer').map((field) => field.id);
  const carried: CarriedFields = { fields: {}, fromTicket: {} };
  if (wanted.length === 0) return carried;
  for (const earlier of await fieldsOfRequesterTickets(db, requesterId, exceptTicketId)) {
    const fields = (earlier.fields ?? {}) as Record<string, FoundField | undefined>;
    for (const id of wanted) {
      const known = fields[id];
      if (id in carried.fields || !known) continue;
      carried.fields[id] = { value: known.value };
      carried.fromTicket[id] = earlier.number;
    }
    if (Object.keys(carried.fields).length === wanted.length) break;
  }
  return carried;
}
