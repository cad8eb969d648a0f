"""Transcript review: search, conversation view, exports, quality reviews, retention and
data-subject requests — every look at transcript content behind roles and an audit trail."""
