"""Evaluations: stage 5 of the pipeline. A new model measured on a sample of the paper's cases (`spotcheck`),
placed among the paper's 18 under one judge."""
