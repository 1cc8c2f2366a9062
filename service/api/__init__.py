"""The HTTP layer: the app factory, middleware, one router per group of routes, the request and
response schemas, metrics, ClaimReview and the web page. It only translates between HTTP and the
pipeline."""
