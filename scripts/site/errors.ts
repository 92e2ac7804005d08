/** A `site` command that cannot go on: its message is for the user, printed without a stack. */
export class SiteCommandError extends Error {}
