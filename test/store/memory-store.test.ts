import { MemoryRoomStore } from '../../src/store/memory-store.ts';
import { storeContract } from '../helpers/store-contract.ts';

storeContract('memory', () => Promise.resolve(new MemoryRoomStore()));
