"""Exports: the last stage, what leaves the app. One style table for labels and metrics (`style`), plotly figures
shared by pages and reports (`figures`), self-contained HTML and PNG documents (`html`), and untrusted text
made inert for markdown (`markdown`)."""
