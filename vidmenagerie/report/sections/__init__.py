"""One module per kind of run (complete, attend, embed, evaluate): each reads what its command
left in the folder and returns the page section; ``common`` holds the frame and the failures."""
