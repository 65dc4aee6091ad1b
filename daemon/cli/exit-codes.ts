/**
 * CLI exit codes; README documents them. Their own module, so the entry point and the forwarder
 * can name them without loading the commands.
 */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** The environment or the rules file is invalid (sysexits EX_CONFIG). */
  CONFIG: 78,
  /** The database could not be opened or migrated (sysexits EX_UNAVAILABLE). */
  STORAGE: 69,
  /** The embedded database belongs to another running process (sysexits EX_TEMPFAIL). */
  LOCKED: 75,
  /** The SMTP or HTTP port could not be opened, e.g. it is in use (sysexits EX_OSERR). */
  LISTEN: 71,
} as const;
