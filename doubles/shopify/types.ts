/**
 * The canonical Shopify order held by the double: the REST Admin `Order` resource shape that
 * webhooks carry, except that every numeric id is a **decimal string** (ids exceed 2^53, so a JS
 * number would corrupt them). The webhook renderer turns those strings back into raw JSON
 * numbers; the GraphQL resolvers derive gids and `legacyResourceId` from them.
 *
 * Field list: Shopify/shopify-app-js `packages/apps/shopify-api/rest/admin/2025-07/order.ts`
 * (REST Order resource) and shopify.dev/docs/api/admin-rest/latest/resources/order; amounts are
 * decimal strings ("199.00") as in every REST payload.
 */

/** An id as decimal digits, e.g. "820982911946154508". */
export type IdString = string;

export interface ShopifyTaxLine {
  title: string;
  /** A fraction, e.g. 0.13 for 13 %. */
  rate: number;
  price: string;
  channel_liable?: boolean | null;
}

export interface ShopifyDiscountAllocation {
  amount: string;
  discount_application_index: number;
}

export interface ShopifyAddress {
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  company: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  province: string | null;
  province_code: string | null;
  zip: string | null;
  country: string | null;
  country_code: string | null;
  phone: string | null;
  latitude: number | null;
  longitude: number | null;
}

/** `customer.default_address` — unlike order addresses it carries ids. */
export interface ShopifyCustomerAddress extends Omit<ShopifyAddress, 'latitude' | 'longitude'> {
  id: IdString;
  customer_id: IdString;
  country_name: string | null;
  default: boolean;
}

export interface ShopifyCustomer {
  id: IdString;
  admin_graphql_api_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  state: string;
  tax_exempt: boolean;
  currency: string;
  created_at: string;
  updated_at: string;
  default_address: ShopifyCustomerAddress | null;
}

export interface ShopifyLineItem {
  id: IdString;
  admin_graphql_api_id: string;
  /** null for custom or deleted products (then `product_exists` is false). */
  product_id: IdString | null;
  variant_id: IdString | null;
  /** May be "" — real fixtures carry empty SKUs. */
  sku: string | null;
  title: string;
  name: string;
  variant_title: string | null;
  vendor: string | null;
  quantity: number;
  current_quantity: number;
  fulfillable_quantity: number;
  fulfillment_status: string | null;
  price: string;
  total_discount: string;
  discount_allocations: ShopifyDiscountAllocation[];
  tax_lines: ShopifyTaxLine[];
  taxable: boolean;
  requires_shipping: boolean;
  gift_card: boolean;
  product_exists: boolean;
  properties: { name: string; value: string }[];
}

export interface ShopifyShippingLine {
  id: IdString;
  title: string;
  code: string | null;
  source: string | null;
  price: string;
  discounted_price: string;
  discount_allocations: ShopifyDiscountAllocation[];
  tax_lines: ShopifyTaxLine[];
  carrier_identifier: string | null;
  is_removed: boolean;
}

export interface ShopifyFulfillment {
  id: IdString;
  admin_graphql_api_id: string;
  order_id: IdString;
  status: string;
  created_at: string;
  updated_at: string;
  location_id: IdString | null;
  tracking_company: string | null;
  tracking_number: string | null;
  line_items: { id: IdString; quantity: number }[];
}

export type FinancialStatus =
  | 'pending'
  | 'authorized'
  | 'partially_paid'
  | 'paid'
  | 'partially_refunded'
  | 'refunded'
  | 'voided'
  | 'expired';

/** REST values seen in fixtures/docs; null means unfulfilled. */
export type FulfillmentStatus = 'fulfilled' | 'partial' | 'restocked' | null;

/** REST `cancel_reason` values (lower-case twins of GraphQL OrderCancelReason). */
export type CancelReason = 'customer' | 'declined' | 'fraud' | 'inventory' | 'other' | 'staff';

export interface ShopifyOrder {
  id: IdString;
  admin_graphql_api_id: string;
  name: string;
  order_number: number;
  number: number;
  confirmation_number: string | null;
  token: string;
  email: string | null;
  contact_email: string | null;
  phone: string | null;
  currency: string;
  presentment_currency: string;
  created_at: string;
  updated_at: string;
  processed_at: string;
  closed_at: string | null;
  cancelled_at: string | null;
  cancel_reason: CancelReason | null;
  financial_status: FinancialStatus;
  fulfillment_status: FulfillmentStatus;
  taxes_included: boolean;
  tax_exempt: boolean;
  test: boolean;
  /** Comma-separated, as REST renders it ("vip, wholesale"). */
  tags: string;
  note: string | null;
  note_attributes: { name: string; value: string }[];
  source_name: string;
  payment_gateway_names: string[];
  customer: ShopifyCustomer | null;
  billing_address: ShopifyAddress | null;
  shipping_address: ShopifyAddress | null;
  line_items: ShopifyLineItem[];
  shipping_lines: ShopifyShippingLine[];
  tax_lines: ShopifyTaxLine[];
  discount_codes: { code: string; amount: string; type: string }[];
  fulfillments: ShopifyFulfillment[];
  refunds: unknown[];
  total_line_items_price: string;
  subtotal_price: string;
  total_discounts: string;
  total_tax: string;
  total_price: string;
  total_outstanding: string;
  current_total_price: string;
  current_subtotal_price: string;
  current_total_tax: string;
  current_total_discounts: string;
}

/** What tests may pass to `addOrder`: any top-level field, with nested parts partial too. */
export interface ShopifyOrderInput
  extends Partial<Omit<ShopifyOrder, 'customer' | 'line_items' | 'shipping_lines' | 'billing_address' | 'shipping_address'>> {
  /** `null` for a guest / POS order. */
  customer?: (Partial<Omit<ShopifyCustomer, 'default_address'>> & { default_address?: Partial<ShopifyCustomerAddress> | null }) | null;
  billing_address?: Partial<ShopifyAddress> | null;
  shipping_address?: Partial<ShopifyAddress> | null;
  line_items?: ShopifyLineItemInput[];
  shipping_lines?: ShopifyShippingLineInput[];
}

/** Allocation input: the index defaults to the allocation's position. */
export type DiscountAllocationInput = { amount: string; discount_application_index?: number };

export type ShopifyLineItemInput = Partial<Omit<ShopifyLineItem, 'discount_allocations'>> & {
  discount_allocations?: DiscountAllocationInput[];
};

export type ShopifyShippingLineInput = Partial<Omit<ShopifyShippingLine, 'discount_allocations'>> & {
  discount_allocations?: DiscountAllocationInput[];
};

/** Order topics the double can deliver (topic union in MONEI/Shopify-api-node, shopify.dev webhooks reference). */
export const ORDER_TOPICS = [
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'orders/fulfilled',
  'orders/partially_fulfilled',
  'orders/delete',
] as const;
export type OrderTopic = (typeof ORDER_TOPICS)[number];
