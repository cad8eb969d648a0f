"""Prometheus metrics, one place for every counter and histogram the service exports."""
from prometheus_client import Counter, Histogram

REQUESTS = Counter("xz_webhook_requests_total", "Webhook requests by outcome", ["outcome"])
TURN_SECONDS = Histogram("xz_turn_seconds", "Time for one bot turn", buckets=(
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8))
DEDUP_HITS = Counter("xz_dedup_hits_total", "Platform retries answered without a second turn")
DEADLINE_MISSES = Counter("xz_deadline_misses_total", "Turns that missed the passive-reply deadline")
API_CALLS = Counter("xz_wechat_api_calls_total", "Outbound WeChat API calls", ["path", "outcome"])
TOKEN_REFRESHES = Counter("xz_wechat_token_refreshes_total", "access_token fetches")
SPOOLED = Counter("xz_spooled_messages_total", "Messages held in Redis while the database was down")
TURN_FAILURES = Counter("xz_turn_failures_total", "Turns whose stages raised; the resident got the busy reply")
PUSHES = Counter("xz_campaign_pushes_total", "Campaign deliveries by outcome", ["outcome"])
