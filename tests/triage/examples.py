"""Small hand-written labeled issues to train the real classifier in tests (not the dev data)."""

BUGS = [
    "App crashes on startup after upgrade\nAfter upgrading to 2.3.1 the app crashes with a segfault.",
    "TypeError when calling render twice\nCalling render() a second time raises TypeError: undefined is not a function.",
    "Memory leak in the image loader\nMemory grows without bound when loading many images; it never gets freed.",
    "Button click does nothing on Firefox\nClicking the save button does nothing, the console shows an exception.",
    "Wrong result from sum with negative numbers\nsum([-1, -2]) returns 3 instead of -3. This is broken.",
    "Segfault when opening large files\nOpening a 2 GB file crashes the process with a segmentation fault.",
    "Regression: login fails with error 500\nSince yesterday's release login fails with an internal server error.",
    "Exception thrown when the list is empty\nAn IndexError is raised when the input list is empty; it should not crash.",
    "Build fails on Windows\nThe build fails with a linker error on Windows 11, the error log is below.",
    "Tooltip shows the wrong value\nThe tooltip displays the previous value, not the current one. Bug.",
    "Infinite loop when the config file is missing\nThe program hangs forever in a loop if the config file does not exist.",
    "Null pointer dereference in the parser\nThe parser crashes with a null pointer error on malformed input.",
    "Data is corrupted after saving\nSaving twice corrupts the file; reopening it fails with an error.",
    "Timeout error when uploading\nUploads fail with a timeout error after 30 seconds, broken since 1.2.",
    "Incorrect date shown in the footer\nThe footer shows the wrong date in time zones west of UTC, a bug.",
]
FEATURES = [
    "Add dark mode\nIt would be great to have a dark theme option in the settings.",
    "Support exporting to CSV\nPlease add an option to export the table as a CSV file.",
    "Feature request: keyboard shortcuts\nI would like keyboard shortcuts for the common actions.",
    "Allow custom colors for charts\nProposal: let users configure the chart color palette.",
    "Add an API to list plugins\nIt would be nice to have an API that returns the installed plugins.",
    "Support for Python 3.13\nPlease add support for the new Python release.",
    "Add a --quiet flag\nA quiet option that suppresses the progress output would be useful.",
    "Enhancement: cache results between runs\nSuggestion: add a cache so repeated runs are faster.",
    "Provide a Docker image\nIt would be great to have an official Docker image published.",
    "Make the sidebar resizable\nProposal to allow resizing the sidebar by dragging its edge.",
    "Add localization for German\nPlease add German translations to the user interface.",
    "New option to disable telemetry\nRequest: an option to turn off telemetry completely.",
    "Support drag and drop upload\nWould be nice to upload files by dragging them into the window.",
    "Add pagination to the search API\nThe search endpoint should support pagination parameters, please add it.",
    "Feature: scheduled reports\nI'd like to schedule reports to be emailed every week.",
]
QUESTIONS = [
    "How do I configure the proxy?\nI could not find in the docs how to set a proxy. How can I do it?",
    "Question about licensing\nCan I use this library in a commercial product? What does the license allow?",
    "How to run the tests locally?\nWhat is the recommended way to run the test suite on my machine?",
    "Is there a way to change the port?\nHow can I change the default port the server listens on?",
    "What is the difference between run and start?\nI am confused about run vs start, which should I use?",
    "How can I contribute?\nI would like to help. Where should I start and how do I set up the project?",
    "Which version should I use with Node 18?\nWhat version is compatible with Node 18? Any advice?",
    "How do I migrate from v1 to v2?\nIs there a guide on how to migrate my project to the new version?",
    "Can someone explain how caching works?\nHow does the cache decide when to invalidate entries?",
    "Where are the logs stored?\nWhere can I find the log files on Linux? How do I enable debug logging?",
    "Best practice for authentication?\nWhat is the recommended way to handle authentication with this?",
    "How to use it with Django?\nDoes anyone have an example of how to integrate it with a Django project?",
    "Why is my build slow?\nIs it normal that building takes ten minutes? How can I speed it up?",
    "How do I set environment variables?\nHow do I pass environment variables to the container?",
    "Is Windows supported?\nDoes this work on Windows, or only on Linux and macOS? Thanks.",
]

DOCS = [
    "Typo in the README\nThe installation section of the README says 'isntall'.",
    "Docs: the configuration page is outdated\nThe documentation still describes the old config format.",
    "Missing documentation for the export option\nThe docs do not explain the --export flag at all.",
    "Broken link in the contributing guide\nThe link to the style guide in CONTRIBUTING.md is dead.",
    "Document the environment variables\nThe docs page should list every supported environment variable.",
    "API reference lacks examples\nThe API documentation has no code examples for the client.",
    "Clarify the upgrade guide\nThe upgrade guide in the docs is confusing about breaking changes.",
    "Wrong default in the docs\nThe documentation says the default port is 80 but it is 8080.",
    "Tutorial step 3 is unclear\nThe getting started tutorial skips how to create the database.",
    "Spelling mistakes on the website docs\nSeveral pages of the documentation site have spelling errors.",
]


def labeled() -> list[tuple[str, str]]:
    return (
        [(t, "bug") for t in BUGS]
        + [(t, "feature") for t in FEATURES]
        + [(t, "question") for t in QUESTIONS]
    )
