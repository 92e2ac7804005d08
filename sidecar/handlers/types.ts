/** The handler contract lives with the runner that calls it (sidecar/jobs/handler.ts); features import it from here. */
export type { HandlerContext, HandlerMeta, HandlerRegistry, SidecarHandler } from '../jobs/handler.js';
