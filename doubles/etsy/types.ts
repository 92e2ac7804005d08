/**
 * Etsy Open API v3 receipt shapes, field for field from Etsy's OAS (`ShopReceipt`,
 * `ShopReceiptTransaction`, `ShopReceiptShipment`, `ShopRefund`, `TransactionVariations`, `Money`)
 * as vendored in gearment/go-etsy `client/api/openapi.yaml` and rendered in
 * weirdion/etsy-python-sdk `docs/ShopReceipt.md` / `docs/ShopReceiptTransaction.md`.
 * Timestamps are epoch seconds; money is integer minor units over a divisor.
 */

export interface EtsyMoney {
  amount: number;
  divisor: number;
  currency_code: string;
}

/**
 * The OAS documents lower-case values, but live payloads carry capitalised ones ("Paid",
 * "Completed") — etsy/open-api#806 — so the double emits those.
 */
export type ReceiptStatus = 'Open' | 'Paid' | 'Completed' | 'Payment Processing' | 'Canceled' | 'Fully Refunded' | 'Partially Refunded';

export interface EtsyShipment {
  receipt_shipping_id: number | null;
  shipment_notification_timestamp: number;
  carrier_name: string;
  tracking_code: string;
}

export interface EtsyRefund {
  amount: EtsyMoney;
  created_timestamp: number;
  reason: string | null;
  note_from_issuer: string | null;
  status: string | null;
}

export interface EtsyVariation {
  property_id: number;
  /** null for personalisation (property 54) in real data. */
  value_id: number | null;
  formatted_name: string;
  formatted_value: string;
}

export interface EtsyTransaction {
  transaction_id: number;
  title: string | null;
  description: string | null;
  seller_user_id: number;
  buyer_user_id: number;
  create_timestamp: number;
  created_timestamp: number;
  paid_timestamp: number | null;
  shipped_timestamp: number | null;
  quantity: number;
  listing_image_id: number | null;
  receipt_id: number;
  is_digital: boolean;
  file_data: string;
  listing_id: number | null;
  transaction_type: string;
  product_id: number | null;
  /** Nullable in the OAS; real data often has "". */
  sku: string | null;
  price: EtsyMoney;
  shipping_cost: EtsyMoney;
  variations: EtsyVariation[];
  product_data: { property_id: number; property_name: string | null; scale_id: number | null; scale_name: string | null; value_ids: number[]; values: string[] }[];
  shipping_profile_id: number | null;
  min_processing_days: number | null;
  max_processing_days: number | null;
  shipping_method: string | null;
  shipping_upgrade: string | null;
  expected_ship_date: number | null;
  buyer_coupon: number;
  shop_coupon: number;
}

export interface ShopReceipt {
  receipt_id: number;
  /** 0 = Etsy.com, 1 = Pattern. */
  receipt_type: number;
  seller_user_id: number;
  seller_email: string | null;
  buyer_user_id: number;
  /** null unless the app was granted access to buyer e-mails (case by case). */
  buyer_email: string | null;
  name: string;
  first_line: string;
  second_line: string | null;
  city: string;
  state: string | null;
  zip: string;
  status: ReceiptStatus;
  formatted_address: string;
  country_iso: string;
  payment_method: string;
  payment_email: string | null;
  message_from_seller: string | null;
  message_from_buyer: string | null;
  message_from_payment: string | null;
  is_paid: boolean;
  is_shipped: boolean;
  create_timestamp: number;
  created_timestamp: number;
  update_timestamp: number;
  updated_timestamp: number;
  is_gift: boolean;
  gift_message: string;
  gift_sender: string;
  grandtotal: EtsyMoney;
  subtotal: EtsyMoney;
  total_price: EtsyMoney;
  total_shipping_cost: EtsyMoney;
  total_tax_cost: EtsyMoney;
  total_vat_cost: EtsyMoney;
  discount_amt: EtsyMoney;
  gift_wrap_price: EtsyMoney;
  shipments: EtsyShipment[];
  transactions: EtsyTransaction[];
  refunds: EtsyRefund[];
}

/** Money may be given as a decimal string ("12.50") in test input. */
export type MoneyInput = EtsyMoney | string;

export interface EtsyTransactionInput extends Partial<Omit<EtsyTransaction, 'price' | 'shipping_cost'>> {
  price?: MoneyInput;
  shipping_cost?: MoneyInput;
}

type MoneyFields = 'grandtotal' | 'subtotal' | 'total_price' | 'total_shipping_cost' | 'total_tax_cost' | 'total_vat_cost' | 'discount_amt' | 'gift_wrap_price';

export interface ShopReceiptInput extends Partial<Omit<ShopReceipt, 'transactions' | MoneyFields>> {
  transactions?: EtsyTransactionInput[];
  grandtotal?: MoneyInput;
  subtotal?: MoneyInput;
  total_price?: MoneyInput;
  total_shipping_cost?: MoneyInput;
  total_tax_cost?: MoneyInput;
  total_vat_cost?: MoneyInput;
  discount_amt?: MoneyInput;
  gift_wrap_price?: MoneyInput;
}
