/** What a doctor check answers, the report they make together and the doctor's options. */
import type { DesiredRole } from '../../../lib/site/records.js';

export type CheckLevel = 'error' | 'warning' | 'info';

export interface DoctorCheck {
  id: string;
  ok: boolean;
  /** `info` for a passing check; the severity of the problem otherwise. */
  level: CheckLevel;
  message: string;
  fix?: string;
}

export interface DoctorReport {
  site: string;
  /** False when any error-level check failed; warnings are shown but do not fail the report. */
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Per REST request and for the realtime handshake. @defaultValue 10_000 */
  timeoutMs?: number;
  /** Our roles (doctypes/roles/*.json). @defaultValue read from the package */
  roles?: DesiredRole[];
  /** How long the realtime check waits for the site's probe event. @defaultValue timeoutMs */
  probeTimeoutMs?: number;
}
