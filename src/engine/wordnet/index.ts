export { WordNet, parseDataLine, splitGloss, type WordNetLocation } from './wordnet';
export { morphy, parseExceptions, MORPHY_RULES } from './morphy';
export { POS_LIST, POS_NAME, POS_FILE, synsetId, posOfSenseKey, type Pointer, type Pos, type Sense, type Synset } from './types';
