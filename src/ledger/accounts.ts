/**
 * The chart of accounts. These ids appear in every output (journal lines, balances, JSON),
 * so they are part of procura's public contract. Balances are debit-positive.
 */
export const Account = {
  /** Raw and in-process inventory at standard ("Inventory Control" in the purchase-sale variant). */
  materialsInProcess: 'materials_in_process',
  finishedGoods: 'finished_goods',
  costOfGoodsSold: 'cost_of_goods_sold',
  conversionCostsControl: 'conversion_costs_control',
  conversionCostsAllocated: 'conversion_costs_allocated',
  accountsPayable: 'accounts_payable',
  accruedConversionCosts: 'accrued_conversion_costs',
  materialPriceVariance: 'material_price_variance',
  materialUsageVariance: 'material_usage_variance',
  /** Counted minus book finished units, at their carrying value. */
  finishedGoodsCountVariance: 'finished_goods_count_variance',
  /** Revaluation of materials on hand when a new standard-cost version takes effect. */
  standardCostRevaluation: 'standard_cost_revaluation',
  salesRevenue: 'sales_revenue',
  accountsReceivable: 'accounts_receivable',
  /** Cash held at the exchange (or broker) that the order pipeline trades through. */
  exchangeCash: 'exchange_cash',
  /** Open hedge positions at carrying value (cost, then marked to market). */
  hedgePositions: 'hedge_positions',
  /** Realised and unrealised hedge profit and loss (credit = gain). */
  hedgeGainsLosses: 'hedge_gains_losses',
  tradingFees: 'trading_fees',
} as const;

export type AccountId = (typeof Account)[keyof typeof Account];

/** Every account id, in chart order (the order of the trial balance). */
export const ACCOUNT_IDS: readonly AccountId[] = Object.values(Account);

const ORDER = new Map<string, number>(ACCOUNT_IDS.map((id, index) => [id, index]));

/** Sort key for account ids: chart order, unknown ids last by name. */
export function compareAccounts(a: string, b: string): number {
  const ia = ORDER.get(a) ?? ACCOUNT_IDS.length;
  const ib = ORDER.get(b) ?? ACCOUNT_IDS.length;
  return ia - ib || (a < b ? -1 : a > b ? 1 : 0);
}

/** The four backflush trigger variants (Horngren ch. 20). */
export const TRIGGERS = ['purchase-completion-sale', 'purchase-sale', 'completion-sale', 'sale'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** True when purchases put materials on the books (RIP); otherwise they reach the books only when flushed. */
export function purchaseIsTrigger(trigger: Trigger): boolean {
  return trigger === 'purchase-completion-sale' || trigger === 'purchase-sale';
}

/** True when completion flushes materials and conversion cost into finished goods. */
export function completionIsTrigger(trigger: Trigger): boolean {
  return trigger === 'purchase-completion-sale' || trigger === 'completion-sale';
}
