/** A `site …` command that cannot go on: the CLI prints its message alone, without a stack. */
export class SiteCommandError extends Error {}
