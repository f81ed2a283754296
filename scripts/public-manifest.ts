/**
 * The public labelled sets `npm run data:public` adds to the local classifier's training data:
 * where each comes from (repository, commit, paths), under which terms, which upstream split was
 * taken, and how its labels map onto the service's `hate` and `harassment` heads (the mapping is
 * implemented in `label-mappings.ts`; this text is what the README and meta.json say).
 *
 * Only training (and development) rows are taken. `testPaths` are upstream test splits and test
 * suites: they are read only to drop training texts that also occur in them.
 */
import type { DelimitedOptions } from './delimited.js'

export interface PublicSet {
  /** Folder name under the output directory; also the `set` of every row. */
  set: string
  /** Leave-one-source-out id: sets drawn from the same upstream collection share one. */
  source: string
  repo: string
  commit: string
  /** Training files; a path ending in `/` means every file under that folder. */
  paths: string[]
  testPaths: string[]
  licence: string
  /** Where the licence (or its absence) is stated. */
  licenceWhere: string
  langs: string[]
  split: string
  mapping: string
  /** Rows written by the last run (the script warns when a run differs). */
  rowsKept: number
  format: DelimitedOptions & {
    /** Column names when the file has none (a first row equal to them is skipped). */
    columns?: string[]
    text: string
    id?: string
    /** Rows to leave out before anything else, e.g. rows marked as an upstream test split. */
    keep?: (record: Record<string, string>) => boolean
  }
}

const ROTTGER = { repo: 'paul-rottger/efficient-low-resource-hate-detection', commit: '3228efa0ab833906d052c096eafda2800ea7b47d' }
const ROTTGER_CLEAN = '0_data/main/1_clean'
const ROTTGER_CSV = { delimiter: ',', quotes: true, text: 'text' } as const
const NO_LICENCE = 'none stated'

export const MANIFEST: PublicSet[] = [
  {
    set: 'olid_en',
    source: 'olid',
    repo: 'victoriyayeotobo/NLP-CW1',
    commit: 'f92c5a699ce967693244082698f1ba6b5e7d01cd',
    paths: ['olid-training-v1.0.tsv'],
    testPaths: [],
    licence: NO_LICENCE,
    licenceWhere:
      'no licence in the repository nor in OLID v1.0 README; OLID (Zampieri et al., NAACL 2019) was released openly for OffensEval 2019 (SemEval task 6)',
    langs: ['en'],
    split: 'OLID training file (13,240); OLID test is not in this repository',
    mapping: 'NOT: hate 0, harassment 0; OFF targeted at an individual (IND), other (OTH) or untargeted (UNT): hate 0, harassment 1; OFF at a group (GRP): hate null, harassment 1',
    rowsKept: 13042,
    format: { delimiter: '\t', quotes: false, text: 'tweet', id: 'id' },
  },
  {
    set: 'dynahate_en',
    source: 'dynahate',
    ...ROTTGER,
    paths: [`${ROTTGER_CLEAN}/dyn21_en/train/`, `${ROTTGER_CLEAN}/dyn21_en/dev_500.csv`],
    testPaths: [`${ROTTGER_CLEAN}/dyn21_en/test_2000.csv`],
    licence: NO_LICENCE,
    licenceWhere:
      'no licence in this repository nor in bvidgen/Dynamically-Generated-Hate-Speech-Dataset; published with Vidgen et al., ACL 2021 ("Learning from the Worst")',
    langs: ['en'],
    split:
      'union of Röttger et al.\'s train subsets (the full train_38644.csv is 4 MiB or more, absent from the snapshot) and dev_500; rows whose original DynaHate split is test dropped',
    mapping: 'hate 1 / nothate: hate 1 / 0; harassment null (adversarial "not hate" rows are no toxicity negatives)',
    rowsKept: 35238,
    format: { ...ROTTGER_CSV, keep: (record) => record.split !== 'test' },
  },
  {
    set: 'mhs_en',
    source: 'measuring_hate_speech',
    ...ROTTGER,
    paths: [`${ROTTGER_CLEAN}/ken20_en/train_20692.csv`, `${ROTTGER_CLEAN}/ken20_en/dev_500.csv`],
    testPaths: [`${ROTTGER_CLEAN}/ken20_en/test_2000.csv`],
    licence: 'CC-BY-4.0',
    licenceWhere: 'dataset card of ucberkeley-dlab/measuring-hate-speech (Kennedy et al., 2020) on Hugging Face',
    langs: ['en'],
    split: 'Röttger et al.\'s train_20692 and dev_500',
    mapping: 'label 1 (hate speech score above the authors\' threshold) / 0: hate 1 / 0; harassment null',
    rowsKept: 21130,
    format: ROTTGER_CSV,
  },
  {
    set: 'fortuna_pt',
    source: 'fortuna_pt',
    ...ROTTGER,
    paths: [`${ROTTGER_CLEAN}/for19_pt/train_3170.csv`, `${ROTTGER_CLEAN}/for19_pt/dev_500.csv`],
    testPaths: [`${ROTTGER_CLEAN}/for19_pt/test_2000.csv`],
    licence: NO_LICENCE,
    licenceWhere:
      'no licence in this repository nor in paulafortuna/Portuguese-Hate-Speech-Dataset (Hugging Face card: unknown); published openly with Fortuna et al., ALW 2019',
    langs: ['pt'],
    split: 'Röttger et al.\'s train_3170 and dev_500',
    mapping: 'label 1 / 0: hate 1 / 0; harassment null',
    rowsKept: 3664,
    format: ROTTGER_CSV,
  },
  {
    set: 'cold_train_zh',
    source: 'cold',
    repo: 'thu-coai/COLDataset',
    commit: 'a0c55a945497ab58e94aef491180e1cf88ffb864',
    paths: ['COLDataset/train.csv'],
    testPaths: ['COLDataset/test.csv'],
    licence: 'Apache-2.0',
    licenceWhere: 'LICENSE in the repository',
    langs: ['zh'],
    split: 'train (the dev split is already in ../shared/datasets); texts also in test dropped',
    mapping: 'offensive 1: hate 1, harassment 1 (train has no individual/group label); 0: hate 0, harassment 0',
    rowsKept: 25585,
    format: { delimiter: ',', quotes: true, text: 'TEXT', id: '', keep: (record) => record.split === 'train' },
  },
  {
    set: 'kmhas_ko',
    source: 'kmhas',
    repo: 'adlnlp/K-MHaS',
    commit: 'ec7a7e775d650b825872f6f538fc717822cdfc1a',
    paths: ['data/kmhas_valid.txt'],
    testPaths: ['data/kmhas_test.txt'],
    licence: 'CC-BY-SA-4.0',
    licenceWhere: 'the authors\' Hugging Face dataset card jeanlee/kmhas_korean_hate_speech (the GitHub README states none)',
    langs: ['ko'],
    split: 'validation only: kmhas_train.txt is 4 MiB or more, absent from the snapshot',
    mapping:
      '8 (not hate): hate 0, harassment 0; 3 (profanity) alone: hate 0, harassment 1; any of origin, physical, politics, age, gender, race, religion: hate 1, harassment 1 with profanity else null',
    rowsKept: 8732,
    format: { delimiter: '\t', quotes: true, text: 'document' },
  },
  {
    set: 'german_hs_de',
    source: 'german_hs_corpus',
    repo: 'cophi-wue/German_HateSpeech_Corpus',
    commit: 'fcba84d07bcaec7ca91c6d4536210a7aefbc6d20',
    paths: ['corpus/bretschneider.csv', 'corpus/germanrefugees.csv', 'corpus/hatr.csv', 'corpus/polly_withhate_dez16-20.csv'],
    testPaths: ['corpus/germeval2018.csv'],
    licence: NO_LICENCE,
    licenceWhere: 'no licence in the repository (README and report.md, University of Würzburg, describe it as an open corpus)',
    langs: ['de'],
    split: 'whole corpus (no splits) except germeval2018.csv (overlaps GermEval 2018 test) and hasoc.csv (HASOC terms)',
    mapping: 'hs (threats, incitement): hate 1, harassment null; p (problematic: insults, offence): hate 0, harassment 1; n: hate 0, harassment 0',
    rowsKept: 8357,
    format: { delimiter: '\t', quotes: true, columns: ['label', 'text'], text: 'text' },
  },
  {
    set: 'lhsab_ar',
    source: 'lhsab',
    repo: 'Hala-Mulki/L-HSAB-First-Arabic-Levantine-HateSpeech-Dataset',
    commit: '9abf6b6d05f484b67cd85a4a61476c51b5cc1910',
    paths: ['Dataset/L-HSAB'],
    testPaths: [],
    licence: NO_LICENCE,
    licenceWhere: 'no licence in the repository; published openly with Mulki et al., ALW 2019',
    langs: ['ar'],
    split: 'whole set (published without splits)',
    mapping: 'hate (abusive language demeaning an identity): hate 1, harassment 1; abusive: hate 0, harassment 1; normal: hate 0, harassment 0',
    rowsKept: 5745,
    format: { delimiter: '\t', quotes: true, text: 'Tweet' },
  },
  {
    set: 'osact2022_ar',
    source: 'osact2022',
    repo: 'zainasaadeddin/Hate-Speech-Detection-on-Arabic-Twitter',
    commit: 'b1569a1a2f04b39f095b803bd5409ef3b9b485ad',
    paths: ['data/train_data2022.csv', 'data/dev_data2022.csv'],
    testPaths: [],
    licence: NO_LICENCE,
    licenceWhere:
      'no licence in the repository; the OSACT 2022 shared task (Mubarak et al., 2022) distributes train and dev openly from alt.qcri.org',
    langs: ['ar'],
    split: 'OSACT 2022 train and dev (the shared task test is not in this repository)',
    mapping: 'OFF with HS1-HS6: hate 1, harassment 1; OFF with NOT_HS: hate 0, harassment 1; NOT_OFF: hate 0, harassment 0',
    rowsKept: 9816,
    format: { delimiter: ',', quotes: true, text: 'Tweet', id: 'Id' },
  },
]

/** Upstream test suites read only to drop overlapping training texts (never trained on). */
export const TEST_SUITES = [{ ...ROTTGER, paths: ['0_data/hatecheck/'], delimiter: ',' as const }]

/** Candidates left out, and why: printed by the script and written in the README. */
export const LEFT_OUT: { set: string; reason: string }[] = [
  { set: 'Founta et al. 2018 (fou18_en)', reason: 'tweet text distributed by the authors only on request (Zenodo, restricted access); no licence to redistribute' },
  { set: 'HatEval 2019 Spanish (bas19_es)', reason: 'CC-BY-NC-4.0 (valeriobasile/HatEval): non-commercial' },
  { set: 'HaSpeeDe2 Italian (san20_it)', reason: 'CC-BY-NC-SA-4.0 (EVALITA 2020 distribution): non-commercial' },
  { set: 'HASOC 2019-2021 Hindi (has19_hi, has20_hi, has21_hi) and the German corpus hasoc.csv', reason: 'distributed to registered shared-task participants; no licence to redistribute found' },
  { set: 'MLMA ar/fr (ous19_ar, ous19_fr)', reason: 'already in ../shared/datasets in full' },
  { set: 'HateXplain', reason: 'MIT, but Data/dataset.json is 4 MiB or more and absent from the snapshot' },
  { set: 'HateCheck (0_data/hatecheck/), German corpus germeval2018.csv', reason: 'test suite / overlaps a test split: used only to drop overlapping texts' },
  { set: 'CONAN and forks folding it in; ETHOS', reason: 'research-only / not redistributable; GPL' },
]
