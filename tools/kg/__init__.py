"""The KG tool: relation plans proposed by a planner (an LLM, or the edge scorer's search), grounded by
graph search over `kg/`, checked, and concluded with witness paths."""
