"""Fixtures: redis-server (single and a 3-node cluster) and RedisStore on them. (To be written.)"""
