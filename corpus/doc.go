// Package corpus owns reading mail corpora (single files, directories of
// files, Maildirs and mbox files) and mass-check evaluation over them:
// false positives and negatives at a threshold, ROC AUC, score histograms,
// k-fold cross-validation with a fresh store per fold, and rule-score
// fitting. It does not serve mail.
package corpus
