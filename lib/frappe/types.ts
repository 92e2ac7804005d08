/**
 * Shapes of Frappe's REST API v1 as the sidecar sees them. The filter and document types follow
 * frappe-js-sdk (src/db/types.ts), so a field name autocompletes from the row type yet any string
 * (a child-table column, a custom field) still type-checks.
 */

export type DocStatus = 0 | 1 | 2;

/** The standard columns every document has (frappe/model/__init__.py `default_fields` [v15]). */
export interface FrappeDocFields {
  name: string;
  owner: string;
  /** `YYYY-MM-DD HH:MM:SS.ffffff` in the site's time zone. */
  creation: string;
  /** Same format; sent back verbatim for optimistic concurrency (check_if_latest compares strings). */
  modified: string;
  modified_by: string;
  docstatus: DocStatus;
  idx: number;
  doctype?: string;
}

export type FrappeDoc<T = {}> = FrappeDocFields & T;

/** Fields of `T`, or any other column name. */
export type FieldName<T> = Extract<keyof T, string> | (string & Record<never, never>);

/** A filter value. No `Date`: JSON would turn it into ISO-8601 with `Z`, which Frappe does not parse as a site-local datetime. */
export type FilterValue = string | number | boolean | null;

/** Operators taking one value (frappe/utils/data.py `get_filter` [v15]). */
export type SingleValueFilterOperator =
  | '='
  | '!='
  | '>'
  | '<'
  | '>='
  | '<='
  | 'like'
  | 'not like'
  | 'is'
  | 'timespan'
  | 'previous'
  | 'next'
  | 'descendants of'
  | 'descendants of (inclusive)'
  | 'not descendants of'
  | 'ancestors of'
  | 'not ancestors of';

/** Operators taking a list (`between` takes two bounds). */
export type MultiValueFilterOperator = 'in' | 'not in' | 'between';

type SingleValueFilter<T> = [FieldName<T>, SingleValueFilterOperator, FilterValue];
type MultiValueFilter<T> = [FieldName<T>, MultiValueFilterOperator, FilterValue[]];
/** `[child or linked DocType, field, op, value]`: the 4-item form that filters on a child table column. */
type DoctypeSingleValueFilter = [string, string, SingleValueFilterOperator, FilterValue];
type DoctypeMultiValueFilter = [string, string, MultiValueFilterOperator, FilterValue[]];

export type Filter<T = FrappeDoc> =
  | SingleValueFilter<T>
  | MultiValueFilter<T>
  | DoctypeSingleValueFilter
  | DoctypeMultiValueFilter;

export type SortOrder = 'asc' | 'desc';

export interface OrderByField<T> {
  field: FieldName<T>;
  order: SortOrder;
}

/**
 * `order_by`: one column, several (ties broken in order), or raw SQL-ish text
 * (`"creation asc, name asc"`). Paging with `limit_start` is only stable when the order is
 * total, so end with a unique column such as `name`.
 */
export type OrderBy<T> = OrderByField<T> | OrderByField<T>[] | string;

export interface ListArgs<T = FrappeDoc> {
  /** Columns to return; `['*']` for all. @defaultValue `['name']` (Frappe's default) */
  fields?: (FieldName<T> | '*')[];
  filters?: Filter<T>[];
  orFilters?: Filter<T>[];
  /**
   * Required: v15 `get_list` applies no ORDER BY at all without one (db_query.py `set_order_by`),
   * so pages would come back in storage order and paging could skip or repeat rows.
   */
  orderBy: OrderBy<T>;
  groupBy?: string;
  /** Offset of the first row. @defaultValue 0 */
  limitStart?: number;
  /** Rows per page; `0` returns every row. @defaultValue 20 */
  limitPageLength?: number;
  /** Parent DocType, required when listing a child table. */
  parent?: string;
  signal?: AbortSignal;
}

export interface ListAllArgs<T = FrappeDoc> extends Omit<ListArgs<T>, 'limitPageLength'> {
  /** Rows fetched per request. @defaultValue 100 */
  pageSize?: number;
}

/** What `/api/resource` answers: `{"data": …}`. */
export interface ResourceResponse<T> {
  data: T;
}

/** What `/api/method` answers: `{"message": …}`, the key omitted when the method returns None. */
export interface MethodResponse<T> {
  message?: T;
}
