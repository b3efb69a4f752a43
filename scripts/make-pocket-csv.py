#!/usr/bin/env python3
"""Writes a 2025-style Pocket CSV export of N distinct articles (default 20,000)
to standard output: dates, tags, both statuses, and every 1,000th title with
quotes, commas and a line break. Used for the import benchmark (BENCHMARKS.md)."""
import sys

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
out = sys.stdout
out.write("title,url,time_added,cursor,tags,status\r\n")
for i in range(rows):
    title = f'"Story {i}, ""quoted""\nsecond line"' if i % 1000 == 0 else f"Story number {i} about things"
    tags = "news|tech" if i % 3 == 0 else "long read" if i % 3 == 1 else ""
    status = "archive" if i % 4 == 0 else "unread"
    out.write(f"{title},https://site{i % 50}.example.com/articles/{i},{1600000000 + i},c{i},{tags},{status}\r\n")
