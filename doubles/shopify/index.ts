/** Shopify test double: public surface. */
export { createShopifyDouble, type GraphqlFault, type ShopifyDouble, type ShopifyDoubleOptions } from './double.js';
export { ShopifyShop, type ShopConfig, type WebhookOptions } from './shop.js';
export { shopifyHmac, type ShopifyDelivery } from './webhooks.js';
export { orderPayloadText } from './rest-payload.js';
export { ADMIN_SCHEMA_SDL } from './schema.js';
export { deliver, type DeliveryResult } from '../shared/http.js';
export type * from './types.js';
export { ORDER_TOPICS } from './types.js';
