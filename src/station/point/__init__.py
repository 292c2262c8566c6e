"""The data-collection point's use cases (scheme, stages 2, 4, 5 and 6): applications, the
request to the Center, refusals, personalization marks, handover, replacement, deadlines.

:mod:`station.point.service` holds the use cases (one transaction each);
:mod:`station.point.config` who the point is; :mod:`station.point.notice` the refusal notice.
"""
