/**
 * The cost feed's public API (see docs/cost-feed.md):
 *
 * - `new CostFeed({ plant, ledger, plan, prices, horizonDays?, actualWindowDays?, policy?,
 *   defaultPolicy?, onOrder?, hedged?, hedgeInstruments?, priceLagMs?, forecastErrorDays?,
 *   forecastErrorBucketDays?, minHistoryDays?, leadTimes?, minReceipts?, closedPeriods? })`, then
 *   `feed.snapshot(at)` -> CostSnapshot (Decimals; `JSON.stringify` gives decimal strings).
 *   Increasing `at` is cheap (cursors move forward); an earlier `at` rebuilds.
 * - Plans: `loadPlan(path, plant)`, `parsePlan(text, file, plant)`,
 *   `ProductionPlan.fromArrays(...)`, `planFromRate(...)` (constant rate, seeded noise).
 * - Options file: `loadCostOptions(path, plant)` (horizon, window, policies, prices, on order).
 * - The formulas, for reuse and tests: carryingPerUnitDay, zForServiceLevel, bufferStock,
 *   sigmaLeadTimeDemand, sigmaFromSums, reorderPoint, daysOfCover, exposureQty, meanAndSigma,
 *   inverseNormalCdf.
 */
export { CostFeed, DEFAULT_POLICY, standardProductCost } from './cost-feed.js';
export type { CostFeedOptions, HedgeMapping, LeadTimeRecord, LedgerEntrySource, MaterialPolicy, MaterialPriceInput } from './cost-feed.js';
export { ProductionPlan, loadPlan, parsePlan, perturbPlan, planFromRate } from './plan.js';
export type { PlanRow } from './plan.js';
export { snapshotToJson, MATERIAL_FIELDS, PRODUCT_FIELDS, formatMaterialField, formatProductField } from './snapshot.js';
export type { ConversionPeriod, CostSnapshot, CostSnapshotJson, MaterialCost, MaterialNumber, MaterialNumbers, ProductCost } from './snapshot.js';
export { bomLineCost, bufferStock, carryingPerUnitDay, daysOfCover, exposureQty, meanAndSigma, reorderPoint, sigmaFromSums, sigmaLeadTimeDemand, zForServiceLevel } from './inventory-math.js';
export { inverseNormalCdf, normalCdf } from './normal.js';
export { loadCostOptions, resolveCostOptions, CostOptionsSchema } from './options.js';
export type { CostOptions } from './options.js';
