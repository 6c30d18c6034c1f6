"""A session's device as a person recognises it ("Firefox on Linux"), read from the
browser's User-Agent header. Only the browser's family and the system's are kept:
enough to tell one's phone from one's laptop, too little to fingerprint anyone."""

# First match wins: Edge and Opera say "Chrome" too, Chrome says "Safari".
BROWSERS = [
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
SYSTEMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
]
UNKNOWN = "Unknown device"


def device_name(user_agent: str) -> str:
    """ "Firefox on Linux", "Safari on iPhone", "Chrome", or "Unknown device"."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN
