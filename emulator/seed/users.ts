/** Users with roles, passwords and API keys, as an administrator would set them up in User settings. */
import type { Doc } from '../core/database.js';
import { generateHash } from '../core/naming.js';
import type { Site } from '../core/site.js';
import { asAdmin, put } from '../sites.js';

export interface NewUser {
  email: string;
  first_name?: string;
  last_name?: string;
  roles?: string[];
  password?: string;
  api_key?: string;
  api_secret?: string;
  /** Leave keys unset unless asked: `true` generates them. */
  generate_keys?: boolean;
  enabled?: number;
}

export interface CreatedUser {
  name: string;
  user_type: string;
  api_key: string | null;
  api_secret: string | null;
}

export function addUser(site: Site, spec: NewUser): CreatedUser {
  return asAdmin(site, (ctx) => {
    const wantKeys = spec.generate_keys || spec.api_key || spec.api_secret;
    const apiKey = spec.api_key ?? (wantKeys ? generateHash(15) : null);
    const apiSecret = spec.api_secret ?? (wantKeys ? generateHash(15) : null);
    const doc: Doc = {
      doctype: 'User',
      email: spec.email,
      first_name: spec.first_name ?? spec.email.split('@')[0],
      last_name: spec.last_name ?? null,
      enabled: spec.enabled ?? 1,
      roles: (spec.roles ?? []).map((role) => ({ role })),
      new_password: spec.password ?? null,
      api_key: apiKey,
      api_secret: apiSecret,
      send_welcome_email: 0,
    };
    const user = put(ctx, doc);
    return { name: String(user.name), user_type: String(user.user_type), api_key: apiKey, api_secret: apiSecret };
  });
}
