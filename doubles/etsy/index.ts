/** Etsy Open API v3 test double: public surface. */
export { createEtsyDouble, type EtsyAppConfig, type EtsyDouble, type EtsyDoubleOptions } from './double.js';
export { EtsyShop, type EtsyShopConfig, type EtsyWebhookOptions } from './shop.js';
export { etsyErrors } from './errors.js';
export { ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, type TokenPair, type TokenResponse } from './oauth.js';
export {
  etsyWebhookPayload,
  newWebhookSecret,
  signEtsyWebhook,
  standardWebhookSignature,
  type EtsyDelivery,
  type EtsySignInput,
  type EtsyWebhookShape,
} from './webhooks.js';
export { toMoney } from './receipt-builder.js';
export { deliver, type DeliveryResult } from '../shared/http.js';
export type * from './types.js';
