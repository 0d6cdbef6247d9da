import { MemoryTransactionStore } from './memory-transaction-store.js';
import { transactionStoreContract } from './transaction-store.contract.js';

transactionStoreContract('MemoryTransactionStore', {
  create: () => new MemoryTransactionStore(),
  dispose: () => undefined,
});
