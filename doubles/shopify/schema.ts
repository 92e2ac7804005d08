/**
 * The subset of Shopify's Admin GraphQL schema the double serves: enough to reconcile orders.
 * Type, field, argument and enum names follow Shopify's published schema — shopify.dev
 * docs/api/admin-graphql/latest (queries/orders, objects/Order, LineItem, ShippingLine, TaxLine,
 * MailingAddress, MoneyBag, enums/OrderCancelReason, OrderSortKeys, OrderDisplayFinancialStatus,
 * OrderDisplayFulfillmentStatus) and the schema dump vendored in airhorns/shopify-draft-proxy
 * `config/admin-graphql/2026-04/schema.graphql`. Nullability mirrors Shopify where known. Fields not
 * listed here do not exist in the double, so a query selecting them fails validation exactly
 * like a misspelt field would on Shopify ("Field 'x' doesn't exist on type 'Order'").
 *
 * Deliberate narrowing: `CurrencyCode` and `CountryCode` list common codes only (Shopify's enums
 * have ~170 / ~250 values); an order in another currency fails to serialize, loudly.
 */
export const ADMIN_SCHEMA_SDL = /* GraphQL */ `
schema {
  query: QueryRoot
}

"An ISO-8601 date-time; Shopify renders it in UTC, e.g. 2026-11-20T15:15:00Z."
scalar DateTime
"A decimal number serialized as a string, e.g. \\"24.0\\"."
scalar Decimal
"A 64-bit unsigned integer serialized as a string (ids above 2^53 stay exact)."
scalar UnsignedInt64
scalar URL

interface Node {
  id: ID!
}

type QueryRoot {
  "Orders of the shop. Requires one of first/last (at most 250)."
  orders(
    first: Int
    after: String
    last: Int
    before: String
    query: String
    reverse: Boolean = false
    sortKey: OrderSortKeys = PROCESSED_AT
  ): OrderConnection!
  order(id: ID!): Order
}

enum OrderSortKeys {
  CREATED_AT
  ID
  ORDER_NUMBER
  PROCESSED_AT
  TOTAL_PRICE
  UPDATED_AT
}

enum OrderCancelReason {
  CUSTOMER
  DECLINED
  FRAUD
  INVENTORY
  OTHER
  STAFF
}

enum OrderDisplayFinancialStatus {
  AUTHORIZED
  EXPIRED
  PAID
  PARTIALLY_PAID
  PARTIALLY_REFUNDED
  PENDING
  REFUNDED
  VOIDED
}

enum OrderDisplayFulfillmentStatus {
  FULFILLED
  IN_PROGRESS
  ON_HOLD
  OPEN
  PARTIALLY_FULFILLED
  PENDING_FULFILLMENT
  REQUEST_DECLINED
  RESTOCKED
  SCHEDULED
  UNFULFILLED
}

enum CurrencyCode {
  AED AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF IDR ILS INR JPY KRW MXN MYR NOK NZD PHP PLN RON SAR SEK SGD THB TRY TWD USD ZAR
}

enum CountryCode {
  AE AT AU BE BR CA CH CN CZ DE DK ES FI FR GB HK HU ID IE IL IN IT JP KR MX MY NL NO NZ PH PL PT RO SA SE SG TH TR TW US ZA
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type MoneyV2 {
  amount: Decimal!
  currencyCode: CurrencyCode!
}

type MoneyBag {
  shopMoney: MoneyV2!
  presentmentMoney: MoneyV2!
}

type OrderConnection {
  edges: [OrderEdge!]!
  nodes: [Order!]!
  pageInfo: PageInfo!
}

type OrderEdge {
  cursor: String!
  node: Order!
}

type Order implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  email: String
  phone: String
  note: String
  tags: [String!]!
  test: Boolean!
  closed: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  closedAt: DateTime
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  currencyCode: CurrencyCode!
  presentmentCurrencyCode: CurrencyCode!
  taxesIncluded: Boolean!
  customer: Customer
  billingAddress: MailingAddress
  shippingAddress: MailingAddress
  lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): LineItemConnection!
  shippingLines(
    first: Int
    after: String
    last: Int
    before: String
    reverse: Boolean = false
    includeRemovals: Boolean = false
  ): ShippingLineConnection!
  taxLines: [TaxLine!]!
  totalPriceSet: MoneyBag!
  subtotalPriceSet: MoneyBag
  totalTaxSet: MoneyBag
  totalDiscountsSet: MoneyBag
  totalShippingPriceSet: MoneyBag!
  currentTotalPriceSet: MoneyBag!
  totalOutstandingSet: MoneyBag!
}

type Customer implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  email: String
  firstName: String
  lastName: String
  displayName: String!
  phone: String
}

type MailingAddress {
  firstName: String
  lastName: String
  name: String
  company: String
  address1: String
  address2: String
  city: String
  province: String
  provinceCode: String
  zip: String
  country: String
  countryCodeV2: CountryCode
  phone: String
  latitude: Float
  longitude: Float
}

type Attribute {
  key: String!
  value: String
}

type DiscountAllocation {
  allocatedAmountSet: MoneyBag!
}

type TaxLine {
  title: String!
  rate: Float
  ratePercentage: Float
  priceSet: MoneyBag!
  channelLiable: Boolean
}

type ProductVariant implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  sku: String
  title: String!
}

type Product implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
}

type LineItemConnection {
  edges: [LineItemEdge!]!
  nodes: [LineItem!]!
  pageInfo: PageInfo!
}

type LineItemEdge {
  cursor: String!
  node: LineItem!
}

type LineItem implements Node {
  id: ID!
  sku: String
  title: String!
  name: String!
  variantTitle: String
  vendor: String
  quantity: Int!
  currentQuantity: Int!
  requiresShipping: Boolean!
  taxable: Boolean!
  isGiftCard: Boolean!
  customAttributes: [Attribute!]!
  originalUnitPriceSet: MoneyBag!
  originalTotalSet: MoneyBag!
  totalDiscountSet: MoneyBag!
  discountAllocations: [DiscountAllocation!]!
  taxLines(first: Int): [TaxLine!]!
  variant: ProductVariant
  product: Product
}

type ShippingLineConnection {
  edges: [ShippingLineEdge!]!
  nodes: [ShippingLine!]!
  pageInfo: PageInfo!
}

type ShippingLineEdge {
  cursor: String!
  node: ShippingLine!
}

type ShippingLine {
  id: ID
  title: String!
  code: String
  source: String
  carrierIdentifier: String
  isRemoved: Boolean!
  originalPriceSet: MoneyBag!
  discountedPriceSet: MoneyBag!
  discountAllocations: [DiscountAllocation!]!
  taxLines: [TaxLine!]!
}
`;
